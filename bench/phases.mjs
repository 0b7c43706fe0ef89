#!/usr/bin/env node
// Where berthd spends the time of an import, a load and a pull of the Debian
// image (the heavy cases of bench/run.mjs). Untimed by run.mjs; a profiling
// aid, see docs/BENCHMARKS.md, "Where berth loses time".
//
//   node bench/phases.mjs [--runs N]
//
// It starts bin/berthd under `strace -f --seccomp-bpf -tt` (only process
// start/exit, fsync/fdatasync, rename and accept4 are traced, so the daemon
// runs at nearly full speed) on a fresh loop-mounted ext4, plus a loopback
// docker-registry, and for each operation prints a timeline:
//   request accepted -> layer helper (build/Release/berth-untar) started -> helper
//   exited -> last fsync/rename -> CLI exited
// with berthd's CPU time (whole process, and its main thread) and the
// helper's. For comparison it also times the helper alone on the same tar
// from a file, and GNU tar. Needs root, strace, docker-registry, mkfs.ext4.
// Everything lives under /tmp/bphase-XXXXXX and is removed at the end.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || (process.argv.includes('--runs') ? 0 : 3);
const cacheDir = path.join(ROOT, 'bench', '.cache');
const debTar = fs.readdirSync(cacheDir).filter((f) => /^debian-bookworm-minbase-.*\.tar$/.test(f)).map((f) => path.join(cacheDir, f)).sort().pop();
if (!debTar) {
  console.error('phases: no Debian tar in bench/.cache: run `node bench/run.mjs --only import` once first');
  process.exit(2);
}
if (process.getuid() !== 0) {
  console.error('phases: must run as root');
  process.exit(2);
}

const tmp = fs.mkdtempSync('/tmp/bphase-');
const mnt = path.join(tmp, 'fs');
const procs = [];
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  // berthd first (strace, its parent, then exits by itself): SIGTERM to
  // strace would only detach it and leave the daemon running.
  let bpid = 0;
  try { bpid = Number(fs.readFileSync(path.join(tmp, 'berthd.pid'), 'utf8')); } catch {}
  if (bpid && alive(bpid)) {
    try { process.kill(bpid, 'SIGTERM'); } catch {}
    const until = Date.now() + 15_000;
    while (alive(bpid) && !isZombie(bpid) && Date.now() < until) spawnSync('sleep', ['0.1']);
    if (alive(bpid)) try { process.kill(bpid, 'SIGKILL'); } catch {}
  }
  for (const p of procs.reverse()) {
    try { process.kill(p.pid, 'SIGTERM'); } catch {}
  }
  const deadline = Date.now() + 10_000;
  while (procs.some((p) => p.exitCode === null && p.signalCode === null && alive(p.pid)) && Date.now() < deadline) spawnSync('sleep', ['0.1']);
  for (const p of procs) if (alive(p.pid)) try { process.kill(p.pid, 'SIGKILL'); } catch {}
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && m.startsWith(tmp + '/')).sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  spawnSync('sleep', ['0.3']);
  const loops = (spawnSync('losetup', ['--list', '--noheadings', '--raw', '-O', 'NAME,BACK-FILE'], { encoding: 'utf8' }).stdout || '').split('\n').map((l) => l.split(' ')).filter((f) => f[1]?.startsWith(tmp + '/'));
  for (const [dev] of loops) spawnSync('losetup', ['-d', dev]);
  fs.rmSync(tmp, { recursive: true, force: true });
}
function isZombie(pid) {
  try { return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z'); } catch { return false; }
}
function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { cleanup(); process.exit(130); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function run(cmd, args, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  return { ...r, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}
function ok(r, what) {
  if (r.status !== 0) throw new Error(`${what}: ${r.stderr || r.error}`);
  return r;
}
const freePort = () => new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); }); });
const ticks = (file) => { const f = fs.readFileSync(file, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; }; // ms (CLK_TCK 100)
const tod = (s) => { const [h, m, x] = s.split(':'); return (Number(h) * 3600 + Number(m) * 60 + Number(x)) * 1000; }; // ms since midnight (UTC)
const nowTod = () => { const d = new Date(); return ((d.getUTCHours() * 60 + d.getUTCMinutes()) * 60 + d.getUTCSeconds()) * 1000 + d.getUTCMilliseconds(); };

try {
  fs.mkdirSync(mnt);
  const img = path.join(tmp, 'fs.img');
  fs.closeSync(fs.openSync(img, 'w'));
  fs.truncateSync(img, 6 * 2 ** 30);
  ok(run('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', img]), 'mkfs.ext4');
  ok(run('mount', ['-o', 'loop', img, mnt]), 'mount');

  // Registry.
  const port = await freePort();
  const reg = `127.0.0.1:${port}`;
  fs.writeFileSync(path.join(tmp, 'reg.yml'), `version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${mnt}/reg\nhttp:\n  addr: ${reg}\n`);
  procs.push(spawn('docker-registry', ['serve', path.join(tmp, 'reg.yml')], { stdio: 'ignore', detached: true }));

  // berthd under strace.
  const st = path.join(tmp, 'berthd.strace');
  const sock = path.join(tmp, 'api.sock');
  process.env.TZ = 'UTC';
  const tracer = spawn('strace', ['-f', '--seccomp-bpf', '-tt', '-o', st, '-e', 'trace=execve,exit_group,fdatasync,fsync,rename,accept4', path.join(ROOT, 'bin/berthd'), '--data-root', path.join(mnt, 'b'), '--exec-root', path.join(tmp, 'x'), '-H', `unix://${sock}`, '--pidfile', path.join(tmp, 'berthd.pid')], { stdio: 'ignore', detached: true, env: { ...process.env, TZ: 'UTC' } });
  procs.push(tracer);
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(tmp, 'dc'), TZ: 'UTC' };
  fs.mkdirSync(env.DOCKER_CONFIG);
  fs.writeFileSync(path.join(env.DOCKER_CONFIG, 'config.json'), '{}');
  for (let i = 0; run('docker', ['version'], env).status !== 0; i++) {
    if (i > 100) throw new Error('berthd did not start');
    await sleep(100);
  }
  const bpid = Number(fs.readFileSync(path.join(tmp, 'berthd.pid'), 'utf8'));
  const docker = (...args) => ok(run('docker', args, env), `docker ${args.join(' ')}`);
  const dropAll = () => {
    const ids = run('docker', ['images', '-aq'], env).stdout.split('\n').filter(Boolean);
    if (ids.length) run('docker', ['rmi', '-f', ...new Set(ids)], env);
    run('docker', ['image', 'prune', '-f'], env);
  };

  // Untimed set-up: image, a save file, a push.
  docker('import', debTar, 'deb:import');
  const saved = path.join(mnt, 'saved.tar');
  docker('save', '-o', saved, 'deb:import');
  docker('tag', 'deb:import', `${reg}/deb:latest`);
  docker('push', `${reg}/deb:latest`);

  const ops = {
    import: ['import', debTar, 'deb:import'],
    load: ['load', '-q', '-i', saved],
    pull: ['pull', '-q', `${reg}/deb:latest`],
  };
  console.log(`berthd ${path.join(ROOT, 'bin/berthd')} (bundle built ${fs.statSync(path.join(ROOT, 'dist/berthd.js')).mtime.toISOString()}), git ${run('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).stdout.trim()}`);
  console.log(`Debian tar ${debTar} (${(fs.statSync(debTar).size / 1e6).toFixed(1)} MB), engine root on a loop-mounted ext4\n`);
  console.log('all times in ms; phases: accept = CLI start -> request accepted; before helper = accepted -> helper started;');
  console.log('helper = layer helper lifetime (receive/download + decompress + hash + extract, streamed); after = helper exit -> last fsync/rename; tail = -> CLI exit\n');
  for (const [name, args] of Object.entries(ops)) {
    for (let i = 0; i < runs; i++) {
      dropAll();
      await sleep(1000);
      const lines0 = fs.readFileSync(st, 'utf8').length;
      const cpu0 = ticks(`/proc/${bpid}/stat`);
      const main0 = ticks(`/proc/${bpid}/task/${bpid}/stat`);
      const t0 = nowTod();
      const r = docker(...args);
      const t1 = nowTod();
      const cpu = ticks(`/proc/${bpid}/stat`) - cpu0;
      const main = ticks(`/proc/${bpid}/task/${bpid}/stat`) - main0;
      await sleep(200);
      const ev = fs.readFileSync(st, 'utf8').slice(lines0).split('\n').map((l) => l.match(/^(\d+)\s+(\d+:\d+:\d+\.\d+) (.*)$/)).filter(Boolean).map((m) => ({ pid: Number(m[1]), t: tod(m[2]), call: m[3] }));
      const acc = ev.find((e) => e.call.startsWith('accept4') && e.t >= t0 - 5);
      const helper = ev.find((e) => e.call.startsWith('execve(') && e.call.includes('berth-untar'));
      const helperExit = helper && ev.find((e) => e.pid === helper.pid && e.call.startsWith('exit_group'));
      const lastSync = ev.filter((e) => /^(fdatasync|fsync|rename)\(/.test(e.call) && e.t <= t1 + 5).pop();
      // The first fdatasync after the helper exits is the big blob's.
      const blobSync = helperExit && ev.find((e) => e.t >= helperExit.t && e.call.startsWith('fdatasync'));
      const blobRename = blobSync && ev.find((e) => e.t >= blobSync.t && e.call.startsWith('rename('));
      const f = (x) => (x == null ? '-' : Math.round(x));
      console.log(`${name.padEnd(6)} total ${f(r.ms)} | accept ${f(acc && acc.t - t0)} | before helper ${f(helper && acc && helper.t - acc.t)} | helper ${f(helperExit && helperExit.t - helper.t)} | after ${f(lastSync && helperExit && lastSync.t - helperExit.t)} (of which blob fdatasync ${f(blobRename && blobRename.t - blobSync.t)}) | tail ${f(lastSync && t1 - lastSync.t)} | berthd CPU ${cpu} (main thread ${main})`);
    }
  }

  // Reference points: the helper and GNU tar alone, same tar, same filesystem.
  console.log('');
  for (let i = 0; i < runs; i++) {
    for (const [label, cmd] of [['helper alone (tar from a file)', (d) => `${path.join(ROOT, 'build/Release/berth-untar')} ${d} < ${debTar} > /dev/null`], ['GNU tar -x', (d) => `tar -xf ${debTar} -C ${d}`]]) {
      const d = path.join(mnt, `x${i}`);
      fs.mkdirSync(d);
      const r = ok(run('bash', ['-c', `TIMEFORMAT='%R %U %S'; time (${cmd(d)})`]), label);
      const [real, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
      console.log(`${label.padEnd(32)} ${Math.round(real * 1000)} ms (user ${Math.round(user * 1000)}, sys ${Math.round(sys * 1000)})`);
      fs.rmSync(d, { recursive: true, force: true });
      await sleep(500);
    }
  }
} catch (err) {
  console.error(`phases: ${err.message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
