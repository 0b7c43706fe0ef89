#!/usr/bin/env node
// Side-by-side benchmark: berth vs. a reference Docker engine, in one run.
//
//   npm run bench
//   node bench/run.mjs [--runs N] [--warmup N] [--heavy-runs N] [--heavy-warmup N]
//                      [--only run[,case...]] [--engines berth,dockerd]
//                      [--host-fs] [--out DIR] [--keep-logs]
//
// Both engines get a private, throw-away root under /tmp/bbench-XXXXXX (on a
// loop-mounted ext4 made there, unless --host-fs) and are
// driven through the same `docker` CLI (the one on PATH), so the only thing
// that differs between the two columns is the engine behind the socket.
//
// The reference engine is Debian's docker.io (dockerd 20.10 + containerd +
// runc). It is never a dependency of berth: this script installs it only if
// it is missing and starts it only for the benchmark, on a private socket,
// with iptables/bridge/ip-forward handling switched off (containers run with
// `--network none`), and stops it (and its containerd) at the end, also on
// failure and Ctrl-C. See docs/BENCHMARKS.md.
//
// Benchmarks are named cases in CASES below: run, version, and the image
// cases import, save, load, push, push-cold, pull (on a Debian minbase image
// and a loopback docker-registry), the network, scale and docker-compose
// (compose-up, compose-down: bench/compose-six) cases.

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const TMP_PREFIX = '/tmp/bbench-';
const MARKER = 'bench.pid'; // in each temp root: the pid of the run.mjs that owns it
const IMAGE = 'busybox:latest';
const CMD_TIMEOUT_MS = 120_000;
const DAEMON_START_TIMEOUT_MS = 60_000;
const DAEMON_STOP_TIMEOUT_MS = 30_000;
const CGROUP_PARENT = 'berthbench-dockerd';
const NET_BYTES = 256 * 2 ** 20;
const SCALE_N = 50; // containers in the scale-* cases
// Each engine's bridge and subnets: 10.a.b.0/20 that no route uses, picked
// per run (another run, or tests, may use the machine at the same time):
// the bridges' /24s, and a /22 of user networks (compose's) for each.
const NETS = pickNets();

function pickNets() {
  const routes = fs.readFileSync('/proc/net/route', 'utf8');
  for (;;) {
    const a = 64 + Math.floor(Math.random() * 64);
    const b = 16 * Math.floor(Math.random() * 16);
    const hex = (x) => x.toString(16).toUpperCase().padStart(2, '0');
    if (Array.from({ length: 16 }, (_, k) => k).some((k) => routes.includes(`00${hex(b + k)}${hex(a)}0A`))) continue;
    const tag = Math.random().toString(16).slice(2, 8);
    return {
      dockerd: { bridge: `bbd${tag}`, cidr: `10.${a}.${b}.1/24`, pool: `base=10.${a}.${b + 8}.0/22,size=24` },
      berth: { bridge: `bbb${tag}`, args: ['--bridge', `bbb${tag}`, '--bip', `10.${a}.${b + 1}.1/24`, '--default-address-pool', `base=10.${a}.${b + 4}.0/22,size=24`] },
    };
  }
}

// The host's own address (not loopback, not a bridge or veth of ours).
function hostAddress() {
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    if (name === 'lo' || /^(bb[bd]|veth|docker|br-)/.test(name)) continue;
    const a = (addrs ?? []).find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  return null;
}

// Sends `bytes` to host:port (127.0.0.1 unless told) and resolves with the milliseconds until
// the receiver closed; a refused or reset connect (the receiver between two
// connections) is tried again, untimed.
async function sendBytes(port, bytes, host = '127.0.0.1') {
  const chunk = Buffer.alloc(1 << 20, 0x61);
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise((resolve, reject) => {
        const t0 = process.hrtime.bigint();
        let sent = 0;
        const sock = net.connect({ host, port });
        sock.on('error', reject);
        sock.on('connect', () => {
          const pump = () => {
            while (sent < bytes) {
              const n = Math.min(chunk.length, bytes - sent);
              sent += n;
              if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void sock.once('drain', pump);
            }
            sock.end();
          };
          pump();
        });
        sock.resume();
        sock.on('close', (hadError) => {
          if (hadError) return;
          if (sent < bytes) return reject(Object.assign(new Error('closed early'), { code: 'ECONNRESET' }));
          resolve(Number(process.hrtime.bigint() - t0) / 1e6);
        });
      });
    } catch (err) {
      if (attempt > 50 || !['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(err.code)) throw err;
      await sleep(20);
    }
  }
}

// ---------------------------------------------------------------------------
// Benchmark cases.
//
// A case is { title, command, heavy?, setup?, afterSetup?, prepare?, measure,
// teardown?, after? }:
//   setup(eng, ctx)      once per engine, untimed, after busybox is imported;
//                        throwing Unsupported marks the engine unsupported
//   afterSetup(engines, ctx)  once, untimed, after every setup; returns
//                        checks recorded in the case's JSON
//   prepare(eng, ctx, i) before every iteration (warm-ups too), untimed
//   measure(eng, ctx, i) one timed iteration; returns milliseconds
//   teardown(eng, ctx)   once per engine, untimed
//   after(ctx)           once, also on failure (stop a registry)
// heavy cases run --heavy-runs/--heavy-warmup times instead of --runs/--warmup.
// `eng.docker(args, opts)` runs the docker CLI against that engine and returns
// { code, stdout, stderr, ms } (ms = wall time of the CLI process, spawn to
// exit); `eng.dockerOk(...)` is the same but throws on a non-zero exit.
// `ctx` is shared by the case across engines ({ tmp, busyboxTar, shared,
// details, checks, command }); ctx.shared is shared by all cases (debTar,
// saved); ctx.details/checks go into the JSON; ctx.command overrides command.
// Iterations are interleaved berth/dockerd (alternating who goes first) so
// drift (thermal, page cache, background load) affects both columns alike.
// Before each iteration of a heavy case, `sync` (untimed) writes back what
// the previous iteration left dirty, so neither engine's timed run pays for
// the other's (or its own earlier) writeback.

const CASES = {
  run: {
    title: 'run',
    command: 'docker run --rm --network none busybox true',
    async setup(eng) {
      // The container really runs: output and exit status come back.
      const r = await eng.docker(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo bench-ok; exit 3']);
      if (r.code !== 3 || r.stdout.trim() !== 'bench-ok') {
        throw new Error(`${eng.name}: sanity check failed: exit ${r.code}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
      }
    },
    async measure(eng) {
      const r = await eng.dockerOk(['run', '--rm', '--network', 'none', 'busybox', 'true']);
      return r.ms;
    },
    async teardown(eng) {
      // --rm must have removed every container; a leftover means a bug.
      const r = await eng.dockerOk(['ps', '-aq']);
      if (r.stdout.trim()) warn(`${eng.name}: containers left after 'run': ${r.stdout.trim().split('\n').length}`);
    },
  },
  // docker exec into a running container: exec create, start (attached),
  // inspect for the exit code.
  exec: {
    title: 'exec',
    command: 'docker exec bench-exec true',
    async setup(eng) {
      await eng.dockerOk(['run', '-d', '--name', 'bench-exec', '--network', 'none', IMAGE, 'sleep', '1000000']);
      // The process really runs in the container: output and exit status come back.
      const r = await eng.docker(['exec', 'bench-exec', 'sh', '-c', 'echo bench-ok; exit 3']);
      if (r.code !== 3 || r.stdout.trim() !== 'bench-ok') {
        throw new Error(`${eng.name}: exec sanity check failed: exit ${r.code}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
      }
    },
    async measure(eng) {
      return (await eng.dockerOk(['exec', 'bench-exec', 'true'])).ms;
    },
    async teardown(eng) {
      await eng.dockerOk(['rm', '-f', 'bench-exec']);
    },
  },
  // The clients, not the engines: berth's CLI and the docker CLI listing
  // containers on the same berthd, and bare Node (`node -e 0`) as the floor
  // under any Node program. The berth column is `berth ps`; the figures of
  // the other two, measured in the same iterations, are in the JSON's
  // details, with berth's own part (berth ps minus node -e 0).
  cli: {
    title: 'cli',
    command: 'berth ps (docker ps and node -e 0 in details)',
    async setup(eng, ctx) {
      if (eng.name !== 'berth') throw new Unsupported('compares two clients on berthd');
      await eng.dockerOk(['run', '-d', '--name', 'bench-ps', '--network', 'none', IMAGE, 'sleep', '1000000']);
      const a = await eng.command(BERTH_CLI, ['ps']);
      const b = await eng.dockerOk(['ps']);
      if (a.code !== 0 || a.stdout.split('\n')[0] !== b.stdout.split('\n')[0] || !a.stdout.includes('bench-ps')) {
        throw new Error(`berth ps does not list what docker ps lists: ${JSON.stringify(a.stdout)} vs ${JSON.stringify(b.stdout)}`);
      }
      ctx.clients = { 'docker ps': [], 'node -e 0': [] };
    },
    async measure(eng, ctx, i) {
      const berth = (await eng.command(BERTH_CLI, ['ps'])).ms;
      const docker = (await eng.dockerOk(['ps'])).ms;
      const node = (await eng.command(process.execPath, ['-e', '0'])).ms;
      if (i >= 0) {
        ctx.clients['docker ps'].push(docker);
        ctx.clients['node -e 0'].push(node);
      }
      return berth;
    },
    async teardown(eng, ctx) {
      await eng.dockerOk(['rm', '-f', 'bench-ps']);
      const med = (a) => r2([...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]);
      ctx.details.clients = Object.fromEntries(Object.entries(ctx.clients).map(([k, v]) => [k, { median: med(v), samples: v.map(r2) }]));
    },
  },
  // The floor under every CLI-driven case: CLI start-up, /_ping version
  // negotiation and one small API call. Not a container operation.
  version: {
    title: 'version',
    command: 'docker version',
    async measure(eng) {
      return (await eng.dockerOk(['version'])).ms;
    },
  },

  // -------------------------------------------------------------------------
  // Image cases on a Debian bookworm minbase root filesystem (~170 MB tar,
  // made by mmdebstrap, cached in bench/.cache/). `heavy`: they run
  // --heavy-runs/--heavy-warmup times (default 5 + 1). Before every timed
  // iteration that creates the image (import, load, pull), every Debian image
  // is removed and the script checks that its layer is really gone from the
  // engine's store, so each iteration stores the whole layer again.
  // A setup that throws Unsupported marks that engine's column `unsupported`.

  import: {
    title: 'import',
    heavy: true,
    command: 'docker import debian.tar deb:import',
    async setup(eng, ctx) {
      await dropDeb(eng, ctx);
    },
    async prepare(eng, ctx) {
      await dropDeb(eng, ctx);
    },
    async measure(eng, ctx) {
      return (await eng.dockerOk(['import', ctx.shared.debTar, DEB], { timeoutMs: HEAVY_TIMEOUT_MS })).ms;
    },
    async teardown(eng, ctx) {
      eng.debDiffID = await diffIdOf(eng, DEB);
      ctx.details[eng.name] = { diffID: eng.debDiffID, imageId: await imageId(eng, DEB) };
    },
  },

  save: {
    title: 'save',
    heavy: true,
    command: 'docker save -o /tmp/…/save-ENGINE.tar deb:import',
    async setup(eng, ctx) {
      await ensureDeb(eng, ctx);
      await trySave(eng, ctx); // throws Unsupported if the engine cannot save
    },
    async prepare(eng, ctx) {
      fs.rmSync(savePath(eng, ctx), { force: true });
    },
    async measure(eng, ctx) {
      return (await eng.dockerOk(['save', '-o', savePath(eng, ctx), DEB], { timeoutMs: HEAVY_TIMEOUT_MS })).ms;
    },
    async teardown(eng, ctx) {
      ctx.shared.saved[eng.name] = { file: savePath(eng, ctx), id: await imageId(eng, DEB) };
      ctx.details[eng.name] = { bytes: fs.statSync(savePath(eng, ctx)).size, imageId: ctx.shared.saved[eng.name].id };
    },
  },

  load: {
    title: 'load',
    heavy: true,
    command: 'docker load -i /tmp/…/save-ENGINE.tar',
    async setup(eng, ctx) {
      if (!ctx.shared.saved[eng.name]) {
        await ensureDeb(eng, ctx);
        await trySave(eng, ctx);
      }
      ctx.details[eng.name] = { savedBy: eng.name, bytes: fs.statSync(ctx.shared.saved[eng.name].file).size, savedImageId: ctx.shared.saved[eng.name].id };
    },
    async prepare(eng, ctx) {
      await dropDeb(eng, ctx);
    },
    async measure(eng, ctx) {
      return (await eng.dockerOk(['load', '-i', ctx.shared.saved[eng.name].file], { timeoutMs: HEAVY_TIMEOUT_MS })).ms;
    },
    async teardown(eng, ctx) {
      // The loaded image is the saved one, tag and id.
      const id = await imageId(eng, DEB);
      ctx.details[eng.name].loadedImageId = id;
      ctx.details[eng.name].idUnchanged = id === ctx.shared.saved[eng.name].id;
      if (!ctx.details[eng.name].idUnchanged) warn(`${eng.name}: docker load gave ${id} for a save of ${ctx.shared.saved[eng.name].id}`);
    },
  },

  push: {
    title: 'push',
    heavy: true,
    command: 'docker push 127.0.0.1:PORT/deb-ENGINE-N:latest',
    async setup(eng, ctx) {
      ctx.registry ??= await startRegistry(ctx.tmp, 'push');
      ctx.command = `docker push ${ctx.registry.host}/deb-ENGINE-N:latest`;
      await ensureDeb(eng, ctx);
      ctx.pushed ??= {};
      ctx.pushed[eng.name] = [];
    },
    async prepare(eng, ctx) {
      // An empty registry: no blob to skip or mount, every push uploads it all.
      ctx.registry.wipe();
      const ref = `${ctx.registry.host}/deb-${eng.name}-${ctx.pushed[eng.name].length}:latest`;
      await eng.dockerOk(['tag', DEB, ref]);
      ctx.pushed[eng.name].push(ref);
    },
    async measure(eng, ctx) {
      const refs = ctx.pushed[eng.name];
      const ref = refs[refs.length - 1];
      const ms = (await eng.dockerOk(['push', ref], { timeoutMs: HEAVY_TIMEOUT_MS })).ms;
      // Untimed: the registry really has the image (the next prepare empties it).
      const m = await registryManifest(ref);
      ctx.details[eng.name] = { layerDigest: m.layers[0].digest, compressedBytes: m.layers[0].size };
      return ms;
    },
    async teardown(eng, ctx) {
      await eng.dockerOk(['rmi', ...ctx.pushed[eng.name]]); // untags; deb:import stays
    },
    async after(ctx) {
      await ctx.registry?.stop();
    },
  },

  // The same push, but every iteration starts from a freshly imported image,
  // so no engine has a compressed copy of the layer yet: each push gzips the
  // whole layer. (berth keeps the gzip blob of its first push and sends those
  // bytes again in later pushes; dockerd compresses on every push.)
  'push-cold': {
    title: 'push-cold',
    heavy: true,
    command: 'docker push 127.0.0.1:PORT/deb-ENGINE-N:latest (image re-imported before each push)',
    async setup(eng, ctx) {
      ctx.registry ??= await startRegistry(ctx.tmp, 'push-cold');
      ctx.command = `docker push ${ctx.registry.host}/deb-ENGINE-N:latest (image re-imported before each push)`;
      await ensureDeb(eng, ctx);
      ctx.pushed ??= {};
      ctx.pushed[eng.name] = [];
    },
    async prepare(eng, ctx) {
      await dropDeb(eng, ctx);
      await eng.dockerOk(['import', ctx.shared.debTar, DEB], { timeoutMs: HEAVY_TIMEOUT_MS });
      ctx.registry.wipe();
      const ref = `${ctx.registry.host}/deb-${eng.name}-${ctx.pushed[eng.name].length}:latest`;
      await eng.dockerOk(['tag', DEB, ref]);
      ctx.pushed[eng.name].push(ref);
    },
    measure: (eng, ctx) => CASES.push.measure(eng, ctx),
    async teardown(eng, ctx) {
      await dropDeb(eng, ctx);
    },
    async after(ctx) {
      await ctx.registry?.stop();
    },
  },

  pull: {
    title: 'pull',
    heavy: true,
    command: 'docker pull 127.0.0.1:PORT/deb-ENGINE:latest',
    async setup(eng, ctx) {
      ctx.registry ??= await startRegistry(ctx.tmp, 'pull');
      ctx.command = `docker pull ${ctx.registry.host}/deb-ENGINE:latest`;
      await ensureDeb(eng, ctx);
      // Each engine pulls what it pushed itself.
      const ref = `${ctx.registry.host}/deb-${eng.name}:latest`;
      await eng.dockerOk(['tag', DEB, ref]);
      const push = await eng.dockerOk(['push', ref], { timeoutMs: HEAVY_TIMEOUT_MS });
      const m = await registryManifest(ref);
      ctx.pushed ??= {};
      ctx.pushed[eng.name] = { ref, id: await imageId(eng, DEB), diffID: eng.debDiffID, blob: m.layers[0].digest, compressedBytes: m.layers[0].size, pushMs: r2(push.ms) };
      await dropDeb(eng, ctx, [m.layers[0].digest]);
    },
    // Untimed, once: what each engine pushed pulls into the other one and
    // runs, and a push -> rmi -> pull round trip keeps the image id.
    async afterSetup(engines, ctx) {
      const checks = { roundTrip: {}, cross: {} };
      const run = async (eng, ref) => {
        const r = await eng.docker(['run', '--rm', '--network', 'none', ref, 'cat', '/etc/debian_version']);
        return r.code === 0 ? r.stdout.trim() : `exit ${r.code}: ${r.stderr.trim()}`;
      };
      for (const eng of engines) {
        const p = ctx.pushed[eng.name];
        await eng.dockerOk(['pull', p.ref], { timeoutMs: HEAVY_TIMEOUT_MS });
        const id = await imageId(eng, p.ref);
        checks.roundTrip[eng.name] = { pushedId: p.id, pulledId: id, idUnchanged: id === p.id, debianVersion: await run(eng, p.ref) };
        await dropDeb(eng, ctx);
      }
      for (const eng of engines) {
        for (const other of engines) {
          if (other === eng) continue;
          const p = ctx.pushed[other.name];
          const r = await eng.docker(['pull', p.ref], { timeoutMs: HEAVY_TIMEOUT_MS });
          const key = `${other.name} push -> ${eng.name} pull`;
          checks.cross[key] = r.code === 0 ? { pulled: true, imageId: await imageId(eng, p.ref), debianVersion: await run(eng, p.ref) } : { pulled: false, error: r.stderr.trim() };
          await dropDeb(eng, ctx);
        }
      }
      log('pull checks (untimed):');
      for (const [k, v] of Object.entries(checks.roundTrip)) log(`  ${k}: push -> rmi -> pull keeps the image id: ${v.idUnchanged ? 'yes' : `NO (${v.pushedId} -> ${v.pulledId})`}; cat /etc/debian_version: ${v.debianVersion}`);
      for (const [k, v] of Object.entries(checks.cross)) log(`  ${k}: ${v.pulled ? `ok, cat /etc/debian_version: ${v.debianVersion}` : `FAILED: ${v.error}`}`);
      return checks;
    },
    async prepare(eng, ctx) {
      await dropDeb(eng, ctx, [ctx.pushed[eng.name].blob]);
    },
    async measure(eng, ctx) {
      return (await eng.dockerOk(['pull', ctx.pushed[eng.name].ref], { timeoutMs: HEAVY_TIMEOUT_MS })).ms;
    },
    async teardown(eng, ctx) {
      const p = ctx.pushed[eng.name];
      const id = await imageId(eng, p.ref);
      if (id !== p.id) warn(`${eng.name}: the last pull gave image ${id}, pushed was ${p.id}`);
      ctx.details[eng.name] = { ...p, lastPullId: id };
      await dropDeb(eng, ctx);
    },
    async after(ctx) {
      await ctx.registry?.stop();
    },
  },
  // Bridge networking (net: the reference engine then runs with a bridge of
  // its own, iptables and its userland proxy; see startDockerd). The cost
  // of a container's network: `run --rm` on the default bridge minus `run
  // --rm --network none`, both measured in each iteration, in alternating order.
  'net-setup': {
    title: 'network setup',
    net: true,
    command: 'docker run --rm busybox true, minus docker run --rm --network none busybox true',
    async setup(eng, ctx) {
      const r = await eng.dockerOk(['run', '--rm', IMAGE, 'sh', '-c', 'ip -4 addr show eth0; ip route']);
      if (!/inet \d+\.\d+\.\d+\.\d+\//.test(r.stdout) || !/default via/.test(r.stdout)) throw new Error(`${eng.name}: no bridge address or route in a container: ${r.stdout}`);
      ctx.details[eng.name] = { bridge: [], none: [] };
    },
    // The order alternates: what a bridge container leaves to the
    // background (its teardown, the pool's refill) lands on the run after
    // it, which would otherwise always be the `--network none` one.
    async measure(eng, ctx, i) {
      const runBridge = async () => (await eng.dockerOk(['run', '--rm', IMAGE, 'true'])).ms;
      const runNone = async () => (await eng.dockerOk(['run', '--rm', '--network', 'none', IMAGE, 'true'])).ms;
      let bridge, none;
      if (i & 1) {
        none = await runNone();
        bridge = await runBridge();
      } else {
        bridge = await runBridge();
        none = await runNone();
      }
      if (i >= 0) {
        ctx.details[eng.name].bridge.push(r2(bridge));
        ctx.details[eng.name].none.push(r2(none));
      }
      return bridge - none;
    },
    async teardown(eng, ctx) {
      const med = (a) => r2([...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]);
      const d = ctx.details[eng.name];
      Object.assign(d, { bridgeMedian: med(d.bridge), noneMedian: med(d.none) });
      const r = await eng.dockerOk(['ps', '-aq']);
      if (r.stdout.trim()) warn(`${eng.name}: containers left after 'net-setup': ${r.stdout.trim().split('\n').length}`);
    },
  },
  // TCP throughput from the host to a published port on 127.0.0.1 (berth:
  // netavark's DNAT; dockerd: its userland proxy, docker-proxy): the time to
  // send NET_BYTES and see the container's receiver (busybox nc) close.
  // Each iteration also sends, untimed, to the same port on the host's own
  // address and straight to the container's address (no proxy, no DNAT):
  // the details' ceiling, which shows what the machine, the sender and the
  // receiver allow at that moment (docs/BENCHMARKS.md, Throughput).
  'net-throughput': {
    title: 'TCP to a published port',
    net: true,
    // (nc -e: a plain nc would also end at the EOF of its own stdin.)
    command: `${NET_BYTES / 2 ** 20} MiB from the host to 127.0.0.1:<published port>, busybox nc -l -e 'dd of=/dev/null bs=1M' in the container`,
    async setup(eng, ctx) {
      const hostIP = hostAddress();
      await eng.dockerOk(['run', '-d', '--name', 'bench-sink', '-p', '127.0.0.1::5001', ...(hostIP ? ['-p', `${hostIP}::5001`] : []), IMAGE, 'sh', '-c', 'while true; do nc -l -p 5001 -e dd of=/dev/null bs=1M 2>/dev/null; done']);
      const ports = (await eng.dockerOk(['port', 'bench-sink', '5001'])).stdout;
      const port = Number(/^127\.0\.0\.1:(\d+)\s*$/m.exec(ports)?.[1]);
      if (!port) throw new Error(`${eng.name}: no published port: ${ports}`);
      const hostPort = hostIP ? Number(new RegExp(`^${hostIP.replace(/\./g, '\\.')}:(\\d+)\\s*$`, 'm').exec(ports)?.[1]) : 0;
      const ip = (await eng.dockerOk(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'bench-sink'])).stdout.trim();
      Object.assign(eng, { sinkPort: port, sinkHostPort: hostPort, sinkHostIP: hostIP, sinkIP: ip });
      await sendBytes(port, 1 << 20); // it answers
      // Who holds the published port (docker-proxy copies the bytes; berth
      // only holds it, never accepting), and whether a DNAT rule sends the
      // port's traffic to the container in the kernel.
      const listener = spawnSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' }).stdout.trim().replace(/\s+/g, ' ');
      const nat = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(`--dport ${port}`) && l.includes('DNAT')).length;
      ctx.details[eng.name] = { port, hostIP, hostPort, containerIP: ip, bytes: NET_BYTES, listener, dnatRules: nat, mibPerS: [], hostAddrMiBPerS: [], directMiBPerS: [] };
    },
    async measure(eng, ctx, i) {
      const ms = await sendBytes(eng.sinkPort, NET_BYTES);
      const rate = (t) => r2(NET_BYTES / 2 ** 20 / (t / 1000));
      const d = ctx.details[eng.name];
      if (i >= 0) {
        d.mibPerS.push(rate(ms));
        if (eng.sinkHostPort) d.hostAddrMiBPerS.push(rate(await sendBytes(eng.sinkHostPort, NET_BYTES, eng.sinkHostIP)));
        d.directMiBPerS.push(rate(await sendBytes(5001, NET_BYTES, eng.sinkIP)));
      }
      return ms;
    },
    async teardown(eng, ctx) {
      const med = (x) => {
        const a = [...x].sort((p, q) => p - q);
        return a.length ? a[Math.floor(a.length / 2)] : null;
      };
      const d = ctx.details[eng.name];
      Object.assign(d, { medianMiBPerS: med(d.mibPerS), medianHostAddrMiBPerS: med(d.hostAddrMiBPerS), medianDirectMiBPerS: med(d.directMiBPerS) });
      log(`${eng.name}: MiB/s medians: 127.0.0.1:${d.port} ${d.medianMiBPerS}, ${d.hostIP}:${d.hostPort} ${d.medianHostAddrMiBPerS}, straight to ${d.containerIP} ${d.medianDirectMiBPerS}; port held by: ${d.listener || 'nothing'}; DNAT rules for it: ${d.dnatRules}`);
      await eng.dockerOk(['rm', '-f', 'bench-sink']);
    },
  },
  // ---------------------------------------------------------------------------
  // docker-compose 1.29 (Debian's, docker-py) on a six-service app
  // (bench/compose-six: two networks, a volume, a published port, a
  // healthcheck on every service, api gated on db's health). compose-up:
  // `up -d`, then polled (GET /containers/json every 20 ms) until all six
  // are healthy. compose-down: `down -v` of the app brought up untimed.
  'compose-up': {
    title: 'compose: up -d until healthy',
    net: true,
    command: 'docker-compose -f bench/compose-six/docker-compose.yml up -d, until all 6 services are healthy',
    async setup(eng) {
      await composeSanity(eng);
    },
    async prepare(eng) {
      await composeDown(eng);
    },
    async measure(eng, ctx, i) {
      const t0 = performance.now();
      await composeOk(eng, ['up', '-d']);
      await composeHealthy(eng);
      const ms = performance.now() - t0;
      if (i >= 0) await composeFloor(eng, ctx);
      return ms;
    },
    async teardown(eng, ctx) {
      await composeDown(eng);
      composeFloorSummary(eng, ctx);
    },
  },
  'compose-down': {
    title: 'compose: down -v',
    net: true,
    command: 'docker-compose -f bench/compose-six/docker-compose.yml down -v (six healthy services, two networks, a volume)',
    async setup(eng) {
      await composeSanity(eng);
    },
    async prepare(eng) {
      await composeOk(eng, ['up', '-d']);
      await composeHealthy(eng);
    },
    async measure(eng, ctx, i) {
      const t0 = performance.now();
      await composeOk(eng, ['down', '-v']);
      const ms = performance.now() - t0;
      if (i >= 0) await composeFloor(eng, ctx);
      return ms;
    },
    async teardown(eng, ctx) {
      await composeDown(eng);
      composeFloorSummary(eng, ctx);
    },
  },
  // The same app and timing, each engine with its own compose client:
  // `berth compose` (Node, no Python) on berthd against docker-compose 1.29
  // on dockerd: the whole stack a user runs, client included.
  'stack-up': {
    title: 'compose: up -d until healthy, berth compose vs docker-compose',
    net: true,
    command: 'berth compose (berth) / docker-compose (dockerd) -f bench/compose-six/docker-compose.yml up -d, until all 6 services are healthy',
    async setup(eng) {
      await composeSanity(eng, true);
    },
    async prepare(eng) {
      await composeDown(eng, true);
    },
    async measure(eng) {
      const t0 = performance.now();
      await composeOk(eng, ['up', '-d'], true);
      await composeHealthy(eng);
      return performance.now() - t0;
    },
    async teardown(eng) {
      await composeDown(eng, true);
    },
  },
  'stack-down': {
    title: 'compose: down -v, berth compose vs docker-compose',
    net: true,
    command: 'berth compose (berth) / docker-compose (dockerd) -f bench/compose-six/docker-compose.yml down -v',
    async setup(eng) {
      await composeSanity(eng, true);
    },
    async prepare(eng) {
      await composeOk(eng, ['up', '-d'], true);
      await composeHealthy(eng);
    },
    async measure(eng) {
      const t0 = performance.now();
      await composeOk(eng, ['down', '-v'], true);
      return performance.now() - t0;
    },
    async teardown(eng) {
      await composeDown(eng, true);
    },
  },
  // ---------------------------------------------------------------------------
  // Fifty containers (issue 10 §6), all `--network none` (the network has its
  // own cases). scale-start: fifty `docker run -d` started at once, timed
  // until `docker ps` lists them all running (heavy: few runs). scale-memory:
  // the daemon's memory with fifty running, PSS summed over every process of
  // the engine (berthd and its conmons; dockerd, containerd and their shims),
  // in MB, not ms. scale-stats: `docker stats --no-stream` over fifty.
  'scale-start': {
    title: 'scale: start',
    heavy: true,
    command: `${SCALE_N} x docker run -d --network none busybox sleep, concurrently, until docker ps lists them all`,
    async prepare(eng) {
      await scaleRemoveAll(eng);
    },
    async measure(eng) {
      const t0 = performance.now();
      await scaleStartAll(eng);
      return performance.now() - t0;
    },
    async teardown(eng) {
      await scaleRemoveAll(eng);
    },
  },
  'scale-memory': {
    title: 'scale: memory',
    unit: 'MB',
    command: `PSS of the daemon and its shims (MB) with ${SCALE_N} containers running`,
    async setup(eng, ctx) {
      await scaleStartAll(eng);
      await sleep(3000); // let start-up garbage be collected and shims settle
      ctx.details[eng.name] = { processes: engineProcs(eng).length };
    },
    async measure(eng) {
      await sleep(200);
      return engineMemory(eng);
    },
    async teardown(eng, ctx) {
      ctx.details[eng.name].byCommand = engineMemoryByCommand(eng);
      await scaleRemoveAll(eng);
    },
  },
  'scale-stats': {
    title: 'scale: stats',
    command: `docker stats --no-stream with ${SCALE_N} containers running`,
    async setup(eng) {
      await scaleStartAll(eng);
      const r = await eng.dockerOk(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}']);
      const rows = r.stdout.trim().split('\n').filter((l) => / [1-9]\d*$/.test(l));
      if (rows.length !== SCALE_N) throw new Error(`${eng.name}: stats listed ${rows.length} running containers, not ${SCALE_N}`);
    },
    async measure(eng) {
      return (await eng.dockerOk(['stats', '--no-stream'])).ms;
    },
    async teardown(eng) {
      await scaleRemoveAll(eng);
    },
  },

  // -------------------------------------------------------------------------
  // Build cases (issue 11 §8), the classic builder of both engines
  // (DOCKER_BUILDKIT=0): two independent stages that each sleep 1 s, and a
  // final stage that copies from both and COPYs 50 files of 100 KB from the
  // context. Steps run with --network none (the reference dockerd here has
  // no bridge). build-cold: the image and its intermediates are removed
  // first (untimed) and the build runs with --no-cache. build-cached: the
  // same build again on a full cache; every step must say "Using cache" and
  // the image id must not change.
  'build-cold': {
    title: 'build: cold',
    heavy: true,
    noDebian: true,
    command: 'docker build --no-cache --network none -t bench-build CONTEXT (2 stages sleeping 1 s, COPY of 50 x 100 KB)',
    async setup(eng, ctx) {
      buildContext(ctx);
      await buildOnce(eng, ctx, ['--no-cache']);
    },
    async prepare(eng) {
      await dropBuilt(eng);
    },
    async measure(eng, ctx) {
      return (await buildOnce(eng, ctx, ['--no-cache'])).ms;
    },
    async teardown(eng, ctx) {
      ctx.details[eng.name] = { imageId: await imageId(eng, BUILT), history: await historyOf(eng) };
      await dropBuilt(eng);
    },
  },
  'build-cached': {
    title: 'build: cached',
    command: 'docker build --network none -t bench-build CONTEXT, all steps cached',
    async setup(eng, ctx) {
      buildContext(ctx);
      await dropBuilt(eng);
      await buildOnce(eng, ctx, []);
      eng.builtId = await imageId(eng, BUILT);
    },
    async measure(eng, ctx) {
      const r = await buildOnce(eng, ctx, []);
      const id = await imageId(eng, BUILT);
      const steps = (r.stdout.match(/^Step \d+\/\d+ :/gm) ?? []).length;
      const hits = (r.stdout.match(/Using cache/g) ?? []).length;
      // FROM steps are not cached steps; the rest must all be hits.
      const froms = (r.stdout.match(/^Step \d+\/\d+ : FROM /gm) ?? []).length;
      if (id !== eng.builtId || hits !== steps - froms) throw new Error(`${eng.name}: the cached build was not fully cached (${hits} hits of ${steps - froms} steps, id ${id} vs ${eng.builtId}):\n${r.stdout}`);
      return r.ms;
    },
    async teardown(eng) {
      await dropBuilt(eng);
    },
  },
};
// ---------------------------------------------------------------------------
// Helpers of the compose cases.

const COMPOSE_FILE = path.join(ROOT, 'bench', 'compose-six', 'docker-compose.yml');
const COMPOSE_PROJECT = 'bsix';
const COMPOSE_SERVICES = 6;

// native: on berth, `berth compose` instead of docker-compose (the
// stack-* cases: each engine with its own compose client); dockerd keeps
// docker-compose 1.29 either way.
function composeOk(eng, args, native = false) {
  const [bin, pre] = native && eng.name === 'berth' ? [BERTH_CLI, ['compose', '-f', COMPOSE_FILE, '-p', COMPOSE_PROJECT]] : ['docker-compose', ['--ansi', 'never', '-f', COMPOSE_FILE, '-p', COMPOSE_PROJECT]];
  return eng.command(bin, [...pre, ...args]).then((r) => {
    if (r.code !== 0) throw new Error(`${eng.name}: ${path.basename(bin)} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r;
  });
}

// The client's own floor, untimed in the case: `docker-compose ps` of the
// project (Python and docker-compose start-up, /version and one container
// list), in the JSON's details as composePsMs.
async function composeFloor(eng, ctx) {
  const r = await composeOk(eng, ['ps']);
  ((ctx.details[eng.name] ??= {}).composePsMs ??= []).push(r2(r.ms));
}

function composeFloorSummary(eng, ctx) {
  const d = ctx.details[eng.name];
  if (d?.composePsMs?.length) d.composePsMedianMs = r2([...d.composePsMs].sort((x, y) => x - y)[Math.floor(d.composePsMs.length / 2)]);
}

async function composeDown(eng, native = false) {
  await composeOk(eng, ['down', '-v', '--remove-orphans'], native);
}

// Polls the project's containers until all six say (healthy).
async function composeHealthy(eng) {
  const q = encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${COMPOSE_PROJECT}`] }));
  const end = Date.now() + CMD_TIMEOUT_MS;
  for (;;) {
    const list = (await getJson(eng.sock, `/containers/json?filters=${q}`)) || [];
    const healthy = list.filter((c) => /\(healthy\)/.test(c.Status)).length;
    if (healthy === COMPOSE_SERVICES) return;
    if (list.some((c) => /\(unhealthy\)/.test(c.Status))) throw new Error(`${eng.name}: a service is unhealthy: ${list.map((c) => `${c.Names[0]} ${c.Status}`).join(', ')}`);
    if (Date.now() > end) throw new Error(`${eng.name}: ${healthy} of ${COMPOSE_SERVICES} services healthy: ${list.map((c) => `${c.Names[0]} ${c.Status}`).join(', ')}`);
    await sleep(20);
  }
}

// The app really runs on both engines: web answers on its published port,
// api reaches db and cache by name across the networks, and down -v leaves
// no container, network or volume.
async function composeSanity(eng, native = false) {
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status !== 0) throw new Unsupported('docker-compose is not installed (apt-get install docker-compose)');
  await composeDown(eng, native);
  await composeOk(eng, ['up', '-d'], native);
  await composeHealthy(eng);
  const port = (await composeOk(eng, ['port', 'web', '8080'], native)).stdout.trim();
  const body = await new Promise((resolve, reject) => {
    http.get(`http://${port}/`, (res) => {
      let b = '';
      res.on('data', (c) => (b += c));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
  if (body.trim() !== 'web') throw new Error(`${eng.name}: web on ${port} said ${JSON.stringify(body)}`);
  const r = await composeOk(eng, ['exec', '-T', 'monitor', 'sh', '-c', 'wget -qO- http://api/ && nc cache 6379 </dev/null'], native);
  if (r.stdout.trim() !== 'api\nPONG') throw new Error(`${eng.name}: services do not reach each other: ${JSON.stringify(r.stdout)}`);
  await composeDown(eng, native);
  const left = (await eng.dockerOk(['ps', '-aq'])).stdout.trim() + (await eng.dockerOk(['volume', 'ls', '-q'])).stdout.trim();
  if (left) throw new Error(`${eng.name}: down -v left ${left}`);
}

// Helpers of the build cases.

const BUILT = 'bench-build:latest';
const BUILD_FILES = 50;
const BUILD_FILE_BYTES = 100 * 1024;
const BUILD_DOCKERFILE = `FROM busybox AS a
RUN sleep 1 && echo a > /a
FROM busybox AS b
RUN sleep 1 && echo b > /b
FROM busybox
COPY --from=a /a /a
COPY --from=b /b /b
COPY files/ /files/
`;

// The context, made once per run (random bytes, so nothing compresses away).
function buildContext(ctx) {
  const dir = path.join(ctx.tmp, 'build-ctx');
  ctx.shared.buildCtx = dir;
  if (fs.existsSync(path.join(dir, 'Dockerfile'))) return dir;
  fs.mkdirSync(path.join(dir, 'files'), { recursive: true });
  for (let i = 0; i < BUILD_FILES; i++) fs.writeFileSync(path.join(dir, 'files', `f${String(i).padStart(2, '0')}`), crypto.randomBytes(BUILD_FILE_BYTES));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), BUILD_DOCKERFILE);
  return dir;
}

async function buildOnce(eng, ctx, extra) {
  const r = await eng.dockerOk(['build', ...extra, '--network', 'none', '-t', BUILT, ctx.shared.buildCtx], { timeoutMs: HEAVY_TIMEOUT_MS });
  if (!/Successfully tagged/.test(r.stdout)) throw new Error(`${eng.name}: docker build did not tag the image:\n${r.stdout}\n${r.stderr}`);
  return r;
}

// Removes the built image, its untagged parents (the classic builder's
// intermediates) and anything dangling.
async function dropBuilt(eng) {
  await eng.docker(['rmi', '-f', BUILT]);
  await eng.dockerOk(['image', 'prune', '-f']);
}

async function historyOf(eng) {
  const r = await eng.docker(['history', '--no-trunc', '--format', '{{.Size}}\t{{.CreatedBy}}', BUILT]);
  return r.code === 0 ? r.stdout.trim().split('\n') : r.stderr.trim();
}
// ---------------------------------------------------------------------------
// Helpers of the scale cases.

async function scaleStartAll(eng) {
  const runs = Array.from({ length: SCALE_N }, () => eng.dockerOk(['run', '-d', '--network', 'none', IMAGE, 'sleep', '1000000']));
  await Promise.all(runs);
  const end = Date.now() + CMD_TIMEOUT_MS;
  for (;;) {
    const ps = (await eng.dockerOk(['ps', '-q'])).stdout.trim().split('\n').filter(Boolean);
    if (ps.length >= SCALE_N) return;
    if (Date.now() > end) throw new Error(`${eng.name}: only ${ps.length} of ${SCALE_N} containers running`);
    await sleep(20);
  }
}

async function scaleRemoveAll(eng) {
  const ids = (await eng.dockerOk(['ps', '-aq'])).stdout.trim().split('\n').filter(Boolean);
  for (let i = 0; i < ids.length; i += 25) await eng.dockerOk(['rm', '-f', ...ids.slice(i, i + 25)]);
}

// The engine's own processes: everything that carries its root in its
// command line (containers' processes do not).
function engineProcs(eng) {
  return procsUnder(eng.root);
}

function pssKiB(pid) {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function engineMemory(eng) {
  return engineProcs(eng).reduce((sum, p) => sum + pssKiB(p.pid), 0) / 1024;
}

function engineMemoryByCommand(eng) {
  const out = {};
  for (const p of engineProcs(eng)) {
    const name = path.basename(p.cmd.split(' ')[0]);
    const e = (out[name] ??= { count: 0, pssMB: 0 });
    e.count++;
    e.pssMB = r2(e.pssMB + pssKiB(p.pid) / 1024);
  }
  return out;
}
// ---------------------------------------------------------------------------
// Helpers of the image cases.

const DEB = 'deb:import';
const CACHE_DIR = path.join(ROOT, 'bench', '.cache');
const HEAVY_TIMEOUT_MS = 300_000;

// A setup that throws this marks the engine `unsupported` for the case.
class Unsupported extends Error {}

// Debian bookworm minbase rootfs tar, built once a day (by date of the run).
async function debianTar() {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const day = new Date().toISOString().slice(0, 10);
  const file = path.join(CACHE_DIR, `debian-bookworm-minbase-${day}.tar`);
  if (fs.existsSync(file)) return { file, cached: true };
  if (!which('mmdebstrap')) aptInstall('mmdebstrap');
  log(`building ${path.relative(ROOT, file)} with mmdebstrap --variant=minbase bookworm (about 20 s, needs the Debian archive)`);
  const partial = `${file}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  // --format=tar: mmdebstrap otherwise picks the format from the file name.
  const code = await new Promise((resolve) => {
    const p = spawn('mmdebstrap', ['--quiet', '--format=tar', '--variant=minbase', 'bookworm', partial], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('exit', (c) => resolve(c));
    p.on('error', () => resolve(-1));
  });
  const st = fs.statSync(partial, { throwIfNoEntry: false });
  if (code !== 0 || !st?.isFile() || st.size < 1e6) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw new Error(`mmdebstrap failed (exit ${code}${st && !st.isFile() ? ', no tar written' : ''})`);
  }
  fs.renameSync(partial, file);
  for (const ent of fs.readdirSync(CACHE_DIR)) {
    if (/^debian-bookworm-minbase-.*\.tar(\.partial)?$/.test(ent) && path.join(CACHE_DIR, ent) !== file) fs.rmSync(path.join(CACHE_DIR, ent), { recursive: true, force: true });
  }
  return { file, cached: false };
}

function aptInstall(pkg) {
  log(`installing Debian ${pkg} (benchmark only)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'inherit', env }).status === 0;
  if (!install() && (spawnSync('apt-get', ['update'], { stdio: 'inherit', env }).status !== 0 || !install())) die(`could not install ${pkg}`);
}

async function imageId(eng, ref) {
  const r = await eng.docker(['image', 'inspect', '-f', '{{.Id}}', ref]);
  return r.code === 0 ? r.stdout.trim() : null;
}

async function diffIdOf(eng, ref) {
  const r = await eng.dockerOk(['image', 'inspect', '-f', '{{index .RootFS.Layers 0}}', ref]);
  return r.stdout.trim();
}

async function ensureDeb(eng, ctx) {
  if (!(await imageId(eng, DEB))) await eng.dockerOk(['import', ctx.shared.debTar, DEB], { timeoutMs: HEAVY_TIMEOUT_MS });
  eng.debDiffID = await diffIdOf(eng, DEB);
}

// Removes every image but busybox, then checks that the Debian layer (and,
// for berth, the given compressed blobs) are gone from the engine's store.
async function dropDeb(eng, ctx, blobs = []) {
  const r = await eng.dockerOk(['image', 'ls', '-a', '--no-trunc', '--format', '{{.ID}}']);
  const ids = [...new Set(r.stdout.split('\n').map((s) => s.trim()).filter((s) => s && s !== eng.busyboxId))];
  if (ids.length) {
    const rm = await eng.docker(['rmi', '-f', ...ids]);
    if (rm.code !== 0) throw new Error(`${eng.name}: docker rmi -f failed: ${rm.stderr.trim()}`);
  }
  if (eng.name === 'berth') await eng.dockerOk(['image', 'prune', '-f']);
  if (eng.debDiffID) {
    const left = layerLeftovers(eng, eng.debDiffID, blobs);
    if (left.length) throw new Error(`${eng.name}: after docker rmi the Debian layer is still stored: ${left.join(', ')}`);
  }
}

function layerLeftovers(eng, diffID, blobs) {
  const data = path.join(eng.root, 'data');
  const hex = (d) => d.replace(/^sha256:/, '');
  // One-layer images: the chain id is the diff id.
  const paths = eng.name === 'berth'
    ? [path.join(data, 'overlay/layers', hex(diffID)), path.join(data, 'content/blobs/sha256', hex(diffID)), ...blobs.map((b) => path.join(data, 'content/blobs/sha256', hex(b)))]
    : [path.join(data, 'image/overlay2/layerdb/sha256', hex(diffID))];
  return paths.filter((p) => fs.existsSync(p));
}

function savePath(eng, ctx) {
  return path.join(ctx.tmp, `save-${eng.name}.tar`);
}

async function trySave(eng, ctx) {
  const file = savePath(eng, ctx);
  const r = await eng.docker(['save', '-o', file, DEB], { timeoutMs: HEAVY_TIMEOUT_MS });
  if (r.code !== 0 || !fs.existsSync(file) || fs.statSync(file).size === 0) {
    fs.rmSync(file, { force: true });
    throw new Unsupported(`docker save failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop()}`);
  }
  ctx.shared.saved[eng.name] = { file, id: await imageId(eng, DEB) };
}

// GET over TCP (the loopback registry).
function tcpGet(url, headers = {}, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function registryManifest(ref) {
  const m = ref.match(/^([^/]+)\/(.+):([^:/]+)$/);
  const r = await tcpGet(`http://${m[1]}/v2/${m[2]}/manifests/${m[3]}`, { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' });
  if (r.status !== 200) throw new Error(`registry: GET manifest of ${ref}: HTTP ${r.status}`);
  return JSON.parse(r.body);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Debian's docker-registry (distribution 2.8) on 127.0.0.1, storage under the
// temp root. No blob descriptor cache is configured, so wiping the storage
// directory empties the registry.
async function startRegistry(tmp, name) {
  const bin = which('docker-registry') ?? (aptInstall('docker-registry'), which('docker-registry'));
  if (!bin) die('docker-registry is not on PATH');
  const dir = path.join(tmp, `reg-${name}`);
  const storage = path.join(dir, 'storage');
  fs.mkdirSync(storage, { recursive: true });
  const port = await freePort();
  const cfg = path.join(dir, 'config.yml');
  fs.writeFileSync(cfg, [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n'));
  const logFile = path.join(dir, 'registry.log');
  const fd = fs.openSync(logFile, 'a');
  const proc = spawn(bin, ['serve', cfg], { stdio: ['ignore', fd, fd], detached: true });
  fs.closeSync(fd);
  let exited = null;
  const done = new Promise((resolve) => proc.on('exit', (c, s) => resolve((exited = s ? `signal ${s}` : `code ${c}`))));
  proc.on('error', (e) => (exited = e.message));
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`docker-registry exited (${exited}); log:\n${tail(logFile)}`);
    try {
      if ((await tcpGet(`http://${host}/v2/`, {}, 1000)).status === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${host}; log:\n${tail(logFile)}`);
    await sleep(100);
  }
  log(`registry (${name}) on ${host}`);
  return {
    host,
    log: logFile,
    wipe() {
      fs.rmSync(path.join(storage, 'docker'), { recursive: true, force: true });
    },
    async stop() {
      if (exited) return;
      try { process.kill(proc.pid, 'SIGTERM'); } catch {}
      if ((await Promise.race([done, sleep(10_000).then(() => null)])) === null) {
        try { process.kill(proc.pid, 'SIGKILL'); } catch {}
        await done;
      }
    },
  };
}

// ---------------------------------------------------------------------------
// Arguments.

function parseArgs(argv) {
  const opts = { runs: 20, warmup: 3, heavyRuns: 5, heavyWarmup: 1, only: null, engines: ['berth', 'dockerd'], keep: false, hostFs: false, out: RESULTS_DIR };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++i];
    };
    const name = a.split('=')[0];
    if (name === '--runs') opts.runs = posInt(val(), '--runs');
    else if (name === '--warmup') opts.warmup = posInt(val(), '--warmup', true);
    else if (name === '--heavy-runs') opts.heavyRuns = posInt(val(), '--heavy-runs');
    else if (name === '--heavy-warmup') opts.heavyWarmup = posInt(val(), '--heavy-warmup', true);
    else if (name === '--only') opts.only = val().split(',').filter(Boolean);
    else if (name === '--engines') opts.engines = val().split(',').filter(Boolean);
    else if (name === '--keep-logs') opts.keep = true;
    else if (name === '--host-fs') opts.hostFs = true;
    else if (name === '--out') opts.out = path.resolve(val());
    else if (name === '-h' || name === '--help') {
      console.log(`usage: node bench/run.mjs [--runs N] [--warmup N] [--heavy-runs N] [--heavy-warmup N] [--only CASE[,CASE]] [--engines berth,dockerd] [--host-fs] [--out DIR] [--keep-logs]
cases: ${Object.keys(CASES).join(', ')}
  --runs N          timed iterations per engine of the light cases (run, version; default 20)
  --warmup N        untimed iterations per engine first (light cases; default 3)
  --heavy-runs N    timed iterations of the image cases (import, save, load, push, push-cold, pull; default 5)
  --heavy-warmup N  untimed iterations of the image cases (default 1)
  --only CASES      run only these cases
  --engines LIST    which engines (default berth,dockerd; a single engine gives no ratio)
  --host-fs         put the engine roots on the host's /tmp instead of a fresh
                    loop-mounted ext4 (see docs/BENCHMARKS.md: "Scratch filesystem")
  --out DIR         write the <case>.json files to DIR (default bench/results)
  --keep-logs       copy the daemon logs to bench/results/logs/ at the end`);
      process.exit(0);
    } else die(`unknown argument ${a} (see --help)`);
  }
  for (const e of opts.engines) if (e !== 'berth' && e !== 'dockerd') die(`unknown engine ${e}`);
  if (opts.engines.length === 0) die('--engines is empty');
  if (opts.only) for (const c of opts.only) if (!CASES[c]) die(`unknown case ${c}; cases: ${Object.keys(CASES).join(', ')}`);
  return opts;
}

function posInt(s, flag, zeroOk = false) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) die(`${flag} wants a ${zeroOk ? 'non-negative' : 'positive'} integer, got ${s}`);
  return n;
}

// ---------------------------------------------------------------------------
// Small helpers.

function die(msg) {
  console.error(`bench: ${msg}`);
  process.exit(2);
}
function warn(msg) {
  console.error(`bench: warning: ${msg}`);
}
function log(msg) {
  console.error(`bench: ${msg}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function which(name) {
  for (const dir of (process.env.PATH || '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = path.join(dir || '.', name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {}
  }
  return null;
}

function firstLine(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
  } catch {
    return null;
  }
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// GET on a unix socket; resolves { status, body }.
function httpGet(socketPath, urlPath, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: urlPath, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function getJson(socketPath, urlPath) {
  try {
    const r = await httpGet(socketPath, urlPath);
    return r.status === 200 ? JSON.parse(r.body) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// Statistics.

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const pct = (p) => s[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]; // nearest rank
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  return { n, median: r2(median), p90: r2(pct(0.9)), min: r2(s[0]), max: r2(s[n - 1]), mean: r2(mean), stddev: r2(sd) };
}
const r2 = (x) => Math.round(x * 100) / 100;
const fmt = (x) => (x == null ? '-' : x.toFixed(1));

// ---------------------------------------------------------------------------
// Cleanup: processes, mounts, cgroups and directories under a temp root.
// Everything the benchmark starts carries its temp root in its command line
// (daemon flags, containerd config path, shim -address, conmon paths), so a
// sweep of /proc for that string finds exactly our processes.

function procsUnder(dir) {
  const out = [];
  for (const ent of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    const pid = Number(ent);
    if (pid === process.pid) continue;
    let cmd;
    try {
      cmd = fs.readFileSync(`/proc/${ent}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.includes(dir + '/') || cmd.split('\0').includes(dir)) {
      out.push({ pid, cmd: cmd.split('\0').filter(Boolean).join(' ') });
    }
  }
  return out;
}

async function killProcsUnder(dir) {
  let procs = procsUnder(dir);
  if (procs.length === 0) return;
  for (const p of procs) {
    warn(`stopping leftover process ${p.pid}: ${p.cmd.slice(0, 120)}`);
    try { process.kill(p.pid, 'SIGTERM'); } catch {}
  }
  for (let i = 0; i < 50 && procs.some((p) => pidAlive(p.pid)); i++) await sleep(100);
  for (const p of procsUnder(dir)) {
    try { process.kill(p.pid, 'SIGKILL'); } catch {}
  }
  for (let i = 0; i < 50 && procsUnder(dir).length; i++) await sleep(100);
}

function mountsUnder(dir) {
  const out = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const mp = f[4].replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    if (mp === dir || mp.startsWith(dir + '/')) out.push(mp);
  }
  return out;
}

function unmountUnder(dir) {
  for (let round = 0; round < 10; round++) {
    const mps = mountsUnder(dir).sort((a, b) => b.length - a.length);
    if (mps.length === 0) return true;
    for (const mp of mps) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
  }
  const left = mountsUnder(dir);
  if (left.length) warn(`could not unmount: ${left.join(' ')}`);
  return left.length === 0;
}

// The scratch filesystem: a fresh ext4 (with a journal, mkfs defaults) on a
// sparse file, loop-mounted at <tmp>/fs. The host root here is ext4 without a
// journal, where the kernel skips inodes freed in the last minute(s) when it
// allocates new ones (ext4 recently_deleted()): right after an rmi of a 7000-
// file layer, extracting it again costs seconds of kernel time in either
// engine, depending on who deleted what how recently. A fresh journaled ext4
// is what a stock Debian host has and does not do that.
const SCRATCH_GB = 6;
function makeScratchFs(tmp) {
  const img = path.join(tmp, 'fs.img');
  const mnt = path.join(tmp, 'fs');
  fs.mkdirSync(mnt);
  fs.closeSync(fs.openSync(img, 'w'));
  fs.truncateSync(img, SCRATCH_GB * 2 ** 30);
  const mk = spawnSync('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', img], { encoding: 'utf8' });
  if (mk.status !== 0) throw new Error(`mkfs.ext4 failed: ${mk.stderr.trim()} (use --host-fs to run on /tmp)`);
  const mo = spawnSync('mount', ['-o', 'loop', img, mnt], { encoding: 'utf8' });
  if (mo.status !== 0) throw new Error(`mount -o loop failed: ${mo.stderr.trim()} (use --host-fs to run on /tmp)`);
  fs.chmodSync(mnt, 0o755);
  return mnt;
}

function fsInfo(dir) {
  const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f.length > 9 && (dir === f[4] || dir.startsWith(f[4].endsWith('/') ? f[4] : f[4] + '/'))).sort((a, b) => b[4].length - a[4].length)[0];
  if (!line) return {};
  const sep = line.indexOf('-');
  const dev = line[sep + 2];
  const base = path.basename(dev);
  return { mountpoint: line[4], fstype: line[sep + 1], device: dev, journal: fs.existsSync('/proc/fs/jbd2') ? fs.readdirSync('/proc/fs/jbd2').some((j) => j.startsWith(base + '-')) : false };
}

function removeCgroups() {
  // dockerd runs its containers under --cgroup-parent; remove the (empty)
  // parent groups it created in each hierarchy. rmdir fails if not empty.
  let hier = [];
  try { hier = fs.readdirSync('/sys/fs/cgroup'); } catch { return; }
  const dirs = [path.join('/sys/fs/cgroup', CGROUP_PARENT)];
  for (const h of hier) dirs.push(path.join('/sys/fs/cgroup', h, CGROUP_PARENT));
  for (const d of dirs) {
    try { fs.rmdirSync(d); } catch {}
  }
}

// Loop devices whose backing file is under dir (the scratch filesystem).
function loopsUnder(dir) {
  const r = spawnSync('losetup', ['--list', '--noheadings', '--raw', '-O', 'NAME,BACK-FILE'], { encoding: 'utf8' });
  return (r.stdout || '').split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 2 && f[1].startsWith(dir + '/')).map((f) => f[0]);
}

async function cleanupRoot(dir) {
  await killProcsUnder(dir);
  unmountUnder(dir);
  // mount -o loop sets autoclear; a lazily unmounted filesystem frees its
  // loop device a moment later. Detach any that is left.
  for (let i = 0; i < 20 && loopsUnder(dir).length; i++) await sleep(100);
  for (const dev of loopsUnder(dir)) {
    if (spawnSync('losetup', ['-d', dev], { stdio: 'ignore' }).status !== 0) warn(`could not detach ${dev}`);
  }
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch (e) {
    warn(`could not remove ${dir}: ${e.message}`);
  }
}

// Temp roots of earlier runs that died without cleaning up (SIGKILL, crash).
async function cleanupStale() {
  for (const ent of fs.readdirSync('/tmp')) {
    const dir = path.join('/tmp', ent);
    if (!dir.startsWith(TMP_PREFIX)) continue;
    let owner;
    try { owner = Number(fs.readFileSync(path.join(dir, MARKER), 'utf8')); } catch { continue; }
    if (owner && pidAlive(owner)) continue;
    log(`cleaning up stale benchmark root ${dir}`);
    await cleanupRoot(dir);
  }
  removeCgroups();
}

// ---------------------------------------------------------------------------
// Host state that the reference engine must not disturb.

function forwardPolicy() {
  const out = firstLine('iptables', ['-S', 'FORWARD']);
  const m = out && out.match(/^-P FORWARD (\S+)/);
  return m ? m[1] : null;
}
function linkExists(name) {
  return spawnSync('ip', ['link', 'show', name], { stdio: 'ignore' }).status === 0;
}
function tmpMountCount() {
  return fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes('/tmp/')).length;
}
function hostState() {
  return { forward: forwardPolicy(), docker0: linkExists('docker0'), tmpMounts: tmpMountCount() };
}
function daemonPids() {
  const out = [];
  for (const ent of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      const comm = fs.readFileSync(`/proc/${ent}/comm`, 'utf8').trim();
      if (comm === 'dockerd' || comm === 'containerd' || comm === 'docker-registry') out.push(Number(ent));
    } catch {}
  }
  return out;
}

// Installs docker.io if dockerd is missing. If the package's services get
// started (they do not where policy-rc.d forbids it), stop them and undo what
// a default dockerd does to the host network.
function ensureDockerd() {
  const have = which('dockerd');
  if (have) return have;
  log('dockerd not found: installing Debian docker.io (reference engine only; not a berth dependency)');
  const before = hostState();
  const pidsBefore = new Set(daemonPids());
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'docker.io'], { stdio: 'inherit', env }).status === 0;
  if (!install()) {
    if (spawnSync('apt-get', ['update'], { stdio: 'inherit', env }).status !== 0 || !install()) die('could not install docker.io');
  }
  const started = daemonPids().filter((p) => !pidsBefore.has(p));
  if (started.length) {
    warn(`installing docker.io started ${started.length} daemon(s); stopping them`);
    spawnSync('systemctl', ['stop', 'docker.socket', 'docker.service', 'containerd.service'], { stdio: 'ignore' });
    spawnSync('service', ['docker', 'stop'], { stdio: 'ignore' });
    spawnSync('service', ['containerd', 'stop'], { stdio: 'ignore' });
    for (const p of started) {
      try { process.kill(p, 'SIGTERM'); } catch {}
    }
  }
  restoreHost(before);
  const p = which('dockerd');
  if (!p) die('docker.io installed but dockerd is not on PATH');
  return p;
}

function restoreHost(before) {
  if (before.forward && forwardPolicy() !== before.forward) {
    warn(`iptables FORWARD policy changed; restoring ${before.forward}`);
    spawnSync('iptables', ['-P', 'FORWARD', before.forward], { stdio: 'inherit' });
  }
  if (!before.docker0 && linkExists('docker0')) {
    warn('docker0 appeared; deleting it');
    spawnSync('ip', ['link', 'delete', 'docker0'], { stdio: 'inherit' });
  }
}

// ---------------------------------------------------------------------------
// The busybox image: the same rootfs as `berth`'s own base image
// (src/cli/base/busybox.ts). The compiled module is used when `npm run build`
// has produced it; otherwise an equivalent copy below builds the same tar.

const BUSYBOX = '/bin/busybox';
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n';
const GROUP = 'root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n';

async function busyboxPack() {
  const compiled = path.join(ROOT, 'out/src/cli/base/busybox.js');
  const require = createRequire(import.meta.url);
  if (fs.existsSync(compiled)) {
    return { source: 'out/src/cli/base/busybox.js', pack: require(compiled).busyboxTar(BUSYBOX) };
  }
  const { pack } = require(path.join(ROOT, 'node_modules/tar-stream'));
  const bin = fs.readFileSync(BUSYBOX);
  if (!execFileSync(BUSYBOX, ['--help'], { encoding: 'utf8' }).includes('BusyBox')) throw new Error(`${BUSYBOX} is not busybox`);
  const applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const mtime = fs.statSync(BUSYBOX).mtime;
  const p = pack();
  const dir = (name, mode = 0o755) => p.entry({ name, type: 'directory', mode, mtime });
  for (const d of ['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sys', 'usr', 'usr/bin', 'usr/sbin', 'sbin', 'var', 'var/spool', 'var/spool/mail', 'var/www']) dir(d);
  dir('tmp', 0o1777);
  p.entry({ name: 'bin/busybox', mode: 0o755, mtime }, bin);
  p.entry({ name: 'etc/passwd', mode: 0o644, mtime }, PASSWD);
  p.entry({ name: 'etc/group', mode: 0o644, mtime }, GROUP);
  for (const a of applets) {
    if (a === 'bin/busybox') continue;
    p.entry({ name: a, type: 'link', linkname: 'bin/busybox', mtime });
  }
  p.finalize();
  return { source: 'bench/run.mjs (copy of src/cli/base/busybox.ts)', pack: p };
}

// Hard-link entries get the mode of the file they link to, as GNU tar writes
// them. busyboxTar() leaves their mode at tar-stream's default (0644), and
// dockerd's unpacker chmods the link (and so the shared inode, bin/busybox
// included) to the entry's mode: every applet would end up non-executable.
function normalizeHardlinks(source) {
  const require = createRequire(import.meta.url);
  const { extract, pack } = require(path.join(ROOT, 'node_modules/tar-stream'));
  const ex = extract();
  const out = pack();
  const modes = new Map();
  ex.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.?\/+/, '');
    if (header.type === 'file') modes.set(name, header.mode);
    if (header.type === 'link') {
      const target = modes.get(header.linkname.replace(/^\.?\/+/, ''));
      if (target != null) header.mode = target;
    }
    stream.pipe(out.entry(header, next));
  });
  ex.on('finish', () => out.finalize());
  ex.on('error', (e) => out.destroy(e));
  source.on('error', (e) => ex.destroy(e));
  source.pipe(ex);
  return out;
}

async function writeBusyboxTar(file) {
  const { source, pack } = await busyboxPack();
  await pipeline(normalizeHardlinks(pack), fs.createWriteStream(file));
  return source;
}

// ---------------------------------------------------------------------------
// Engines.

class Engine {
  constructor(name, root, dockerBin) {
    this.name = name;
    this.root = root; // /tmp/bbench-XXXXXX/<b|d>
    this.sock = path.join(root, 'api.sock');
    this.log = path.join(root, 'daemon.log');
    this.dockerBin = dockerBin;
    this.proc = null;
    this.exited = null; // Promise resolved with the exit code
    // DOCKER_BUILDKIT=0: `docker build` uses the classic builder (POST /build) on both engines.
    this.env = { ...process.env, DOCKER_HOST: `unix://${this.sock}`, DOCKER_CONFIG: path.join(root, 'docker-config'), DOCKER_CLI_HINTS: 'false', DOCKER_BUILDKIT: '0' };
    for (const k of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION', 'DOCKER_DEFAULT_PLATFORM']) delete this.env[k];
    fs.mkdirSync(this.env.DOCKER_CONFIG, { recursive: true });
    fs.writeFileSync(path.join(this.env.DOCKER_CONFIG, 'config.json'), '{}\n');
  }

  start(cmd, args, env = process.env) {
    const fd = fs.openSync(this.log, 'a');
    fs.writeSync(fd, `# ${cmd} ${args.join(' ')}\n`);
    // Own process group: a Ctrl-C on the terminal reaches only us, and we
    // stop the daemons in order during cleanup.
    this.proc = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached: true, env });
    fs.closeSync(fd);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, sig) => resolve(sig ? `signal ${sig}` : `code ${code}`));
      this.proc.on('error', (e) => resolve(`spawn error: ${e.message}`));
    });
    this.exitStatus = null;
    this.exited.then((s) => (this.exitStatus = s));
  }

  async waitReady() {
    const deadline = Date.now() + DAEMON_START_TIMEOUT_MS;
    for (;;) {
      if (this.exitStatus) throw new Error(`${this.name} exited during start-up (${this.exitStatus}); log tail:\n${tail(this.log)}`);
      try {
        const r = await httpGet(this.sock, '/_ping', 1000);
        if (r.status === 200) return;
      } catch {}
      if (Date.now() > deadline) throw new Error(`${this.name} did not answer /_ping within ${DAEMON_START_TIMEOUT_MS / 1000}s; log tail:\n${tail(this.log)}`);
      await sleep(100);
    }
  }

  async stop() {
    if (!this.proc || this.exitStatus) return;
    try { process.kill(this.proc.pid, 'SIGTERM'); } catch {}
    const t = await Promise.race([this.exited, sleep(DAEMON_STOP_TIMEOUT_MS).then(() => null)]);
    if (t === null) {
      warn(`${this.name} did not stop within ${DAEMON_STOP_TIMEOUT_MS / 1000}s; killing it`);
      try { process.kill(this.proc.pid, 'SIGKILL'); } catch {}
      await this.exited;
    }
  }

  // Runs the docker CLI against this engine. ms: spawn to exit.
  docker(args, opts = {}) {
    return this.command(this.dockerBin, args, opts);
  }

  // Runs any program with this engine's DOCKER_HOST. ms: spawn to exit.
  command(bin, args, { input, timeoutMs = CMD_TIMEOUT_MS } = {}) {
    return new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const child = spawn(bin, args, { env: this.env, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      const out = [];
      const err = [];
      child.stdout.on('data', (c) => out.push(c));
      child.stderr.on('data', (c) => err.push(c));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${this.name}: ${path.basename(bin)} ${args.join(' ')}: timed out after ${timeoutMs / 1000}s`));
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code) => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        clearTimeout(timer);
        resolve({ code, ms, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
      });
      if (input) {
        child.stdin.on('error', () => {});
        if (typeof input.pipe === 'function') input.pipe(child.stdin);
        else child.stdin.end(input);
      }
    });
  }

  async dockerOk(args, opts) {
    const r = await this.docker(args, opts);
    if (r.code !== 0) throw new Error(`${this.name}: docker ${args.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r;
  }

  async versions() {
    const v = (await getJson(this.sock, '/version')) || {};
    const i = (await getJson(this.sock, '/info')) || {};
    const comp = Object.fromEntries((v.Components || []).map((c) => [c.Name, c.Version]));
    return {
      version: v.Version ?? null,
      apiVersion: v.ApiVersion ?? null,
      containerd: comp.containerd ?? null,
      runc: comp.runc ?? null,
      storageDriver: i.Driver ?? null,
      cgroupDriver: i.CgroupDriver ?? null,
      cgroupVersion: i.CgroupVersion ?? null,
    };
  }
}

// BERTHD=/path/to/berthd benchmarks another build (no staleness check then).
const BERTHD = process.env.BERTHD || path.join(ROOT, 'bin/berthd');
const BERTHD_BUNDLE = path.join(ROOT, 'dist/berthd.js');
const BERTH_CLI = path.join(ROOT, 'bin/berth');

function checkBerthd() {
  if (process.env.BERTHD) {
    if (!fs.existsSync(BERTHD)) die(`BERTHD=${BERTHD} does not exist`);
    return;
  }
  if (!fs.existsSync(BERTHD) || !fs.existsSync(BERTHD_BUNDLE)) {
    die('berthd is not built (bin/berthd or dist/berthd.js missing): run `npm run build`, or benchmark only the reference engine with --engines dockerd');
  }
  // A stale bundle would benchmark old code.
  const built = fs.statSync(BERTHD_BUNDLE).mtimeMs;
  const newer = [];
  const walk = (dir) => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (/\.ts$/.test(ent.name) && fs.statSync(p).mtimeMs > built) newer.push(path.relative(ROOT, p));
    }
  };
  try { walk(path.join(ROOT, 'src')); } catch {}
  if (newer.length) warn(`dist/berthd.js is older than ${newer.slice(0, 3).join(', ')}${newer.length > 3 ? ` and ${newer.length - 3} more` : ''}: run \`npm run build\` to benchmark the current source`);
}

function startBerth(tmp, dockerBin) {
  const berthd = BERTHD;
  const root = path.join(tmp, 'b');
  fs.mkdirSync(root);
  const e = new Engine('berth', root, dockerBin);
  e.start(berthd, ['--data-root', path.join(root, 'data'), '--exec-root', path.join(root, 'x'), '-H', `unix://${e.sock}`, '--pidfile', path.join(root, 'berthd.pid'), ...NETS.berth.args]);
  e.cleanupNetworks = () => spawnSync(berthd, ['--data-root', path.join(root, 'data'), '--exec-root', path.join(root, 'x'), '--config-file', path.join(root, 'none.json'), '--cleanup-networks'], { stdio: 'ignore', env: { ...process.env } });
  fs.writeFileSync(path.join(root, 'none.json'), '{}');
  return e;
}

function startDockerd(tmp, dockerBin, dockerd, withNet = false) {
  const root = path.join(tmp, 'd');
  fs.mkdirSync(root);
  const cfg = path.join(root, 'daemon.json');
  fs.writeFileSync(cfg, '{}\n'); // ignore any /etc/docker/daemon.json
  const e = new Engine('dockerd', root, dockerBin);
  // No --containerd: dockerd starts its own containerd as a child, with its
  // state under --exec-root/containerd and its root under --data-root.
  e.start(dockerd, [
    '--data-root', path.join(root, 'data'),
    '--exec-root', path.join(root, 'x'),
    '--pidfile', path.join(root, 'dockerd.pid'),
    '-H', `unix://${e.sock}`,
    '--config-file', cfg,
    '--containerd-namespace', 'berthbench',
    '--containerd-plugins-namespace', 'berthbench-plugins',
    '--cgroup-parent', `/${CGROUP_PARENT}`,
    // The host network is not ours to touch; for the network cases, a
    // bridge of its own and the rules it needs (removed again, see
    // removeDockerdNet).
    ...(withNet
      ? [`--bridge=${NETS.dockerd.bridge}`, `--default-address-pool=${NETS.dockerd.pool}`, '--iptables=true', '--ip6tables=false', '--ip-masq=true', '--ip-forward=true', '--userland-proxy=true']
      : ['--iptables=false', '--ip6tables=false', '--ip-masq=false', '--ip-forward=false', '--bridge=none', '--userland-proxy=false']),
  ]);
  return e;
}

// dockerd's -b wants an existing bridge, with the gateway address on it.
function makeDockerdBridge() {
  const { bridge, cidr } = NETS.dockerd;
  for (const args of [['link', 'add', bridge, 'type', 'bridge'], ['addr', 'add', cidr, 'dev', bridge], ['link', 'set', bridge, 'up']]) {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) die(`ip ${args.join(' ')}: ${r.stderr}`);
  }
  state.dockerdNet = true;
}

// What a dockerd with --iptables leaves: its chains, the jumps into them,
// the rules naming its bridge, and its bridge. (Its FORWARD policy is put back by restoreHost.)
function removeDockerdNet() {
  // The DOCKER* chains and the jumps into them are the host's, shared by
  // every dockerd with --iptables: while another one runs (another bench
  // run on the machine), only the rules naming this run's bridge go.
  const otherDockerd = daemonPids().some((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dockerd';
    } catch {
      return false;
    }
  });
  if (otherDockerd) log('another dockerd runs: its DOCKER chains are left in place');
  for (const table of ['nat', 'filter']) {
    const save = spawnSync('iptables-save', ['-t', table], { encoding: 'utf8' }).stdout || '';
    const chains = otherDockerd ? [] : [...save.matchAll(/^:(DOCKER\S*)/gm)].map((m) => m[1]);
    for (const line of save.split('\n')) {
      const m = /^-A (\S+) (.*)$/.exec(line);
      const ours = line.includes(` ${NETS.dockerd.bridge} `) || line.endsWith(` ${NETS.dockerd.bridge}`);
      // (and its FORWARD accepts for its bridge, which name no DOCKER chain)
      if (m && (otherDockerd ? ours : !m[1].startsWith('DOCKER') && (/ -j DOCKER/.test(line) || ours))) spawnSync('iptables', ['-t', table, '-D', m[1], ...m[2].split(' ')], { stdio: 'ignore' });
    }
    for (const c of chains) spawnSync('iptables', ['-t', table, '-F', c], { stdio: 'ignore' });
    for (const c of chains) spawnSync('iptables', ['-t', table, '-X', c], { stdio: 'ignore' });
  }
  if (linkExists(NETS.dockerd.bridge)) spawnSync('ip', ['link', 'delete', NETS.dockerd.bridge], { stdio: 'ignore' });
}

// ---------------------------------------------------------------------------
// Machine description for the results.

function gitRev() {
  const rev = firstLine('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).stdout?.trim();
  return rev ? rev + (dirty ? '-dirty' : '') : null;
}

function machine() {
  const cpus = os.cpus();
  let distro = null;
  try { distro = fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? null; } catch {}
  return {
    kernel: os.release(),
    distro,
    cores: cpus.length,
    cpu: cpus[0]?.model ?? null,
    memGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    runc: firstLine('runc', ['--version']),
    conmon: firstLine('conmon', ['--version']),
  };
}

// ---------------------------------------------------------------------------
// Running a case.

async function runCase(name, c, engines, opts, ctx) {
  const runs = c.heavy ? opts.heavyRuns : opts.runs;
  const warmup = c.heavy ? opts.heavyWarmup : opts.warmup;
  log(`case ${name}: ${c.command} — ${warmup} warm-up + ${runs} timed runs per engine, interleaved`);
  const active = [];
  const unsupported = {};
  const result = {};
  try {
    for (const e of engines) {
      try {
        if (c.setup) await c.setup(e, ctx);
        active.push(e);
      } catch (err) {
        if (!(err instanceof Unsupported)) throw err;
        unsupported[e.name] = err.message;
        warn(`${e.name}: ${name} unsupported: ${err.message}`);
      }
    }
    if (c.afterSetup) ctx.checks = await c.afterSetup(active, ctx);
    const samples = Object.fromEntries(active.map((e) => [e.name, []]));
    const warm = Object.fromEntries(active.map((e) => [e.name, []]));
    const order = (i) => (i % 2 ? [...active].reverse() : active);
    for (let i = 0; i < warmup; i++) {
      for (const e of order(i)) {
        if (c.prepare) await c.prepare(e, ctx, -1 - i);
        if (c.heavy) settleDisks();
        warm[e.name].push(await c.measure(e, ctx, -1 - i));
      }
    }
    for (let i = 0; i < runs && active.length; i++) {
      for (const e of order(i)) {
        if (c.prepare) await c.prepare(e, ctx, i);
        if (c.heavy) settleDisks();
        samples[e.name].push(await c.measure(e, ctx, i));
      }
      process.stderr.write(i + 1 === runs ? `${i + 1}\n` : (i + 1) % 10 === 0 ? `${i + 1}` : '.');
    }
    for (const e of active) if (c.teardown) await c.teardown(e, ctx);
    for (const e of engines) {
      if (unsupported[e.name]) result[e.name] = { unsupported: true, reason: unsupported[e.name] };
      else result[e.name] = { ...stats(samples[e.name]), samples: samples[e.name].map(r2), warmupSamples: warm[e.name].map(r2) };
    }
  } finally {
    if (c.after) await c.after(ctx).catch((err) => warn(`${name}: ${err.message}`));
  }
  return { result, runs, warmup };
}

function settleDisks() {
  spawnSync('sync', [], { stdio: 'ignore' });
}

function report(name, command, result, runs, unit = 'ms') {
  const rows = [['engine', 'n', `median ${unit}`, `p90 ${unit}`, `min ${unit}`, `max ${unit}`, `mean ${unit}`, 'stddev']];
  for (const [eng, s] of Object.entries(result)) {
    if (s.unsupported) rows.push([eng, 'unsupported', '', '', '', '', '', '']);
    else rows.push([eng, String(s.n), fmt(s.median), fmt(s.p90), fmt(s.min), fmt(s.max), fmt(s.mean), fmt(s.stddev)]);
  }
  const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  console.log(`\n${name}: ${command}`);
  for (const r of rows) console.log('  ' + r.map((x, j) => (j === 0 ? x.padEnd(w[j]) : x.padStart(w[j]))).join('  '));
  const b = result.berth;
  const d = result.dockerd;
  const ratio = b && d && !b.unsupported && !d.unsupported ? r2(b.median / d.median) : null;
  if (ratio != null) console.log(`  ratio berth/dockerd (median): ${ratio.toFixed(2)}x  (p90: ${(b.p90 / d.p90).toFixed(2)}x)`);
  const cell = (s) => (!s ? 'pending' : s.unsupported ? 'unsupported' : `${fmt(s.median)} (${fmt(s.p90)}, ${fmt(s.min)})`);
  const row = `| ${name} | \`${command}\` | ${runs} | ${cell(b)} | ${cell(d)} | ${ratio != null ? ratio.toFixed(2) + '×' : '-'} |`;
  console.log(`\nmarkdown row (docs/BENCHMARKS.md):\n${row}`);
  return { ratio, row };
}

// ---------------------------------------------------------------------------
// Main.

let cleanupPromise = null;
let state = { tmp: null, engines: [], before: null, keep: false };

function cleanup() {
  if (!cleanupPromise) cleanupPromise = doCleanup();
  return cleanupPromise;
}

async function doCleanup() {
  const { tmp, engines, before } = state;
  await Promise.all(engines.map((e) => e.stop().catch((err) => warn(`stopping ${e.name}: ${err.message}`))));
  // berthd's bridges, rules and namespaces (its containers were stopped above).
  for (const e of engines) e.cleanupNetworks?.();
  if (state.dockerdNet) removeDockerdNet();
  if (tmp) {
    if (state.keep) {
      const dst = path.join(RESULTS_DIR, 'logs');
      fs.mkdirSync(dst, { recursive: true });
      for (const e of engines) try { fs.copyFileSync(e.log, path.join(dst, `${e.name}.log`)); } catch {}
    }
    await cleanupRoot(tmp);
  }
  removeCgroups();
  if (before) {
    restoreHost(before);
    const after = hostState();
    if (after.tmpMounts > before.tmpMounts) warn(`/proc/mounts has ${after.tmpMounts - before.tmpMounts} more /tmp/ mounts than before`);
    // Ours carry the temp root in their command line (and were swept above);
    // others may have been started by something else during the run.
    const left = daemonPids().filter((p) => !state.daemonsBefore?.has(p));
    const ours = tmp ? new Set(procsUnder(tmp).map((p) => p.pid)) : new Set();
    if (left.some((p) => ours.has(p))) warn(`dockerd/containerd/docker-registry processes of this run still running: ${left.filter((p) => ours.has(p)).join(' ')}`);
    const others = left.filter((p) => !ours.has(p));
    if (others.length) log(`note: dockerd/containerd/docker-registry processes started during the run by something else (not under ${tmp}): ${others.join(' ')}`);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) die('must run as root (both engines need it)');
  const cases = opts.only ?? Object.keys(CASES);

  const dockerBin = which('docker');
  if (!dockerBin) die('the docker CLI is not on PATH');
  if (opts.engines.includes('berth')) checkBerthd();
  const dockerd = opts.engines.includes('dockerd') ? ensureDockerd() : null;

  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      state.interrupted = true;
      log(`${sig}: stopping the engines and cleaning up`);
      cleanup().finally(() => process.exit(130));
    });
  }

  await cleanupStale();
  state.before = hostState();
  state.daemonsBefore = new Set(daemonPids());
  state.keep = opts.keep;
  state.tmp = await fsp.mkdtemp(TMP_PREFIX);
  fs.writeFileSync(path.join(state.tmp, MARKER), String(process.pid));
  // Where the engines, the registry and the saved archives live.
  const base = opts.hostFs ? state.tmp : makeScratchFs(state.tmp);
  const scratchFs = opts.hostFs ? { type: 'host', path: '/tmp', ...fsInfo(state.tmp) } : { type: `loop-mounted ext4 with journal, ${SCRATCH_GB} GB sparse file on the host filesystem`, ...fsInfo(base) };
  log(`engine roots on ${scratchFs.type}`);
  const tarFile = path.join(state.tmp, 'busybox.tar');
  const tarSource = await writeBusyboxTar(tarFile);
  log(`busybox rootfs tar: ${(fs.statSync(tarFile).size / 2 ** 20).toFixed(1)} MiB from ${tarSource}`);

  let debTar = null;
  if (cases.some((n) => CASES[n].heavy && !CASES[n].noDebian)) {
    const t = await debianTar();
    debTar = { file: t.file, bytes: fs.statSync(t.file).size, cached: t.cached, made: 'mmdebstrap --format=tar --variant=minbase bookworm' };
    log(`Debian rootfs tar: ${(debTar.bytes / 1e6).toFixed(1)} MB, ${path.relative(ROOT, t.file)}${t.cached ? ' (cached)' : ''}`);
  }

  const engines = [];
  for (const name of opts.engines) {
    const withNet = cases.some((n) => CASES[n].net);
    if (name === 'dockerd' && withNet) makeDockerdBridge();
    const e = name === 'berth' ? startBerth(base, dockerBin) : startDockerd(base, dockerBin, dockerd, withNet);
    engines.push(e);
    state.engines.push(e);
  }
  await Promise.all(engines.map((e) => e.waitReady()));
  log(`engines up: ${engines.map((e) => e.name).join(', ')}`);

  for (const e of engines) {
    const r = await e.dockerOk(['import', tarFile, IMAGE], { timeoutMs: 300_000 });
    e.busyboxId = await imageId(e, IMAGE);
    log(`${e.name}: imported ${IMAGE} (${r.stdout.trim().slice(0, 19)}) in ${r.ms.toFixed(0)} ms`);
  }

  const info = {
    date: new Date().toISOString(),
    machine: machine(),
    dockerCli: { path: dockerBin, version: firstLine(dockerBin, ['--version']) },
    busyboxTar: tarSource,
    scratchFs,
    engines: {},
  };
  for (const e of engines) info.engines[e.name] = await e.versions();
  if (info.engines.berth) Object.assign(info.engines.berth, { binary: BERTHD.startsWith(ROOT + '/') ? path.relative(ROOT, BERTHD) : BERTHD, git: gitRev(), bundleBuilt: process.env.BERTHD ? null : fs.statSync(BERTHD_BUNDLE).mtime.toISOString() });

  fs.mkdirSync(opts.out, { recursive: true });
  let failed = false;
  const rows = [];
  const shared = { debTar: debTar?.file ?? null, saved: {} };
  for (const name of cases) {
    const c = CASES[name];
    const ctx = { tmp: base, busyboxTar: tarFile, shared, details: {}, checks: null, command: null };
    let result, runs, warmup;
    const load1 = os.loadavg()[0];
    const started = Date.now();
    try {
      ({ result, runs, warmup } = await runCase(name, c, engines, opts, ctx));
    } catch (err) {
      failed = true;
      if (state.interrupted) break;
      console.error(`\nbench: case ${name} failed: ${err.message}`);
      for (const e of engines) console.error(`--- ${e.name} log tail ---\n${tail(e.log, 20)}`);
      continue;
    }
    const command = ctx.command ?? c.command;
    const { ratio, row } = report(name, command, result, runs, c.unit);
    rows.push(row);
    const json = {
      case: name,
      command,
      ...(c.unit ? { unit: c.unit } : {}),
      runs,
      warmup,
      ...info,
      ...(c.heavy ? { debianTar: debTar } : {}),
      // Load average (1 min) when the case started and ended: other work on
      // the machine shows here.
      host: { loadavgStart: r2(load1), loadavgEnd: r2(os.loadavg()[0]), seconds: Math.round((Date.now() - started) / 1000) },
      results: { berth: result.berth ?? null, dockerd: result.dockerd ?? null },
      ratio: ratio != null ? { 'berth/dockerd median': ratio } : null,
      ...(ctx.checks ? { checks: ctx.checks } : {}),
      ...(Object.keys(ctx.details).length ? { details: ctx.details } : {}),
    };
    const file = path.join(opts.out, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
    log(`wrote ${path.relative(ROOT, file)}`);
  }
  if (rows.length > 1) console.log(`\nall rows:\n${rows.join('\n')}`);
  return failed ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`bench: ${process.env.BENCH_DEBUG ? err.stack : err.message}`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
