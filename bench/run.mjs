#!/usr/bin/env node
// Side-by-side benchmark: berth vs. a reference Docker engine, in one run.
//
//   npm run bench
//   node bench/run.mjs [--runs N] [--warmup N] [--only run[,case...]] [--engines berth,dockerd]
//
// Both engines get a private, throw-away root under /tmp/bbench-XXXXXX and are
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
// Benchmarks are named cases in CASES below; add push/pull/save/load/import/
// build there.

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
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

// ---------------------------------------------------------------------------
// Benchmark cases.
//
// A case is { title, command, setup?, prepare?, measure, teardown? }:
//   setup(eng, ctx)      once per engine, untimed, after busybox is imported
//   prepare(eng, ctx, i) before every iteration (warm-ups too), untimed
//   measure(eng, ctx, i) one timed iteration; returns milliseconds
//   teardown(eng, ctx)   once per engine, untimed
// `eng.docker(args, opts)` runs the docker CLI against that engine and returns
// { code, stdout, stderr, ms } (ms = wall time of the CLI process, spawn to
// exit); `eng.dockerOk(...)` is the same but throws on a non-zero exit.
// `ctx` is shared by the case across engines ({ tmp, busyboxTar, runs }).
// Iterations are interleaved berth/dockerd (alternating who goes first) so
// drift (thermal, page cache, background load) affects both columns alike.

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
  // The floor under every CLI-driven case: CLI start-up, /_ping version
  // negotiation and one small API call. Not a container operation.
  version: {
    title: 'version',
    command: 'docker version',
    async measure(eng) {
      return (await eng.dockerOk(['version'])).ms;
    },
  },
  // Later, e.g.:
  // pull: { title: 'pull', command: 'docker pull 127.0.0.1:PORT/busybox',
  //         setup: start a loopback registry + push once, prepare: docker rmi,
  //         measure: timed pull },
};

// ---------------------------------------------------------------------------
// Arguments.

function parseArgs(argv) {
  const opts = { runs: 20, warmup: 3, only: null, engines: ['berth', 'dockerd'], keep: false };
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
    else if (name === '--only') opts.only = val().split(',').filter(Boolean);
    else if (name === '--engines') opts.engines = val().split(',').filter(Boolean);
    else if (name === '--keep-logs') opts.keep = true;
    else if (name === '-h' || name === '--help') {
      console.log(`usage: node bench/run.mjs [--runs N] [--warmup N] [--only CASE[,CASE]] [--engines berth,dockerd] [--keep-logs]
cases: ${Object.keys(CASES).join(', ')}
  --runs N        timed iterations per engine and case (default 20)
  --warmup N      untimed iterations per engine first (default 3)
  --only CASES    run only these cases
  --engines LIST  which engines (default berth,dockerd; a single engine gives no ratio)
  --keep-logs     copy the daemon logs to bench/results/logs/ at the end`);
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

async function cleanupRoot(dir) {
  await killProcsUnder(dir);
  unmountUnder(dir);
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
      if (comm === 'dockerd' || comm === 'containerd') out.push(Number(ent));
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
    this.env = { ...process.env, DOCKER_HOST: `unix://${this.sock}`, DOCKER_CONFIG: path.join(root, 'docker-config'), DOCKER_CLI_HINTS: 'false' };
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
  docker(args, { input, timeoutMs = CMD_TIMEOUT_MS } = {}) {
    return new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const child = spawn(this.dockerBin, args, { env: this.env, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      const out = [];
      const err = [];
      child.stdout.on('data', (c) => out.push(c));
      child.stderr.on('data', (c) => err.push(c));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${this.name}: docker ${args.join(' ')}: timed out after ${timeoutMs / 1000}s`));
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
  e.start(berthd, ['--data-root', path.join(root, 'data'), '--exec-root', path.join(root, 'x'), '-H', `unix://${e.sock}`, '--pidfile', path.join(root, 'berthd.pid')]);
  return e;
}

function startDockerd(tmp, dockerBin, dockerd) {
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
    // The host network is not ours to touch.
    '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--ip-forward=false', '--bridge=none',
    '--userland-proxy=false',
  ]);
  return e;
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
  log(`case ${name}: ${c.command} — ${opts.warmup} warm-up + ${opts.runs} timed runs per engine, interleaved`);
  for (const e of engines) if (c.setup) await c.setup(e, ctx);
  const samples = Object.fromEntries(engines.map((e) => [e.name, []]));
  const order = (i) => (i % 2 ? [...engines].reverse() : engines);
  for (let i = 0; i < opts.warmup; i++) {
    for (const e of order(i)) {
      if (c.prepare) await c.prepare(e, ctx, -1 - i);
      await c.measure(e, ctx, -1 - i);
    }
  }
  for (let i = 0; i < opts.runs; i++) {
    for (const e of order(i)) {
      if (c.prepare) await c.prepare(e, ctx, i);
      samples[e.name].push(await c.measure(e, ctx, i));
    }
    process.stderr.write(i + 1 === opts.runs ? `${i + 1}\n` : (i + 1) % 10 === 0 ? `${i + 1}` : '.');
  }
  for (const e of engines) if (c.teardown) await c.teardown(e, ctx);
  const result = {};
  for (const e of engines) result[e.name] = { ...stats(samples[e.name]), samples: samples[e.name].map(r2) };
  return result;
}

function report(name, c, result, opts) {
  const rows = [['engine', 'n', 'median ms', 'p90 ms', 'min ms', 'max ms', 'mean ms', 'stddev']];
  for (const [eng, s] of Object.entries(result)) rows.push([eng, String(s.n), fmt(s.median), fmt(s.p90), fmt(s.min), fmt(s.max), fmt(s.mean), fmt(s.stddev)]);
  const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  console.log(`\n${name}: ${c.command}`);
  for (const r of rows) console.log('  ' + r.map((x, j) => (j === 0 ? x.padEnd(w[j]) : x.padStart(w[j]))).join('  '));
  const b = result.berth;
  const d = result.dockerd;
  const ratio = b && d ? r2(b.median / d.median) : null;
  if (ratio != null) console.log(`  ratio berth/dockerd (median): ${ratio.toFixed(2)}x  (p90: ${(b.p90 / d.p90).toFixed(2)}x)`);
  const cell = (s) => (s ? `${fmt(s.median)} (${fmt(s.p90)}, ${fmt(s.min)})` : 'pending');
  const row = `| ${name} | \`${c.command}\` | ${opts.runs} | ${cell(b)} | ${cell(d)} | ${ratio != null ? ratio.toFixed(2) + '×' : 'pending'} |`;
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
    const left = daemonPids().filter((p) => !state.daemonsBefore?.has(p));
    if (left.length) warn(`dockerd/containerd processes still running: ${left.join(' ')}`);
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
  const tarFile = path.join(state.tmp, 'busybox.tar');
  const tarSource = await writeBusyboxTar(tarFile);
  log(`busybox rootfs tar: ${(fs.statSync(tarFile).size / 2 ** 20).toFixed(1)} MiB from ${tarSource}`);

  const engines = [];
  for (const name of opts.engines) {
    const e = name === 'berth' ? startBerth(state.tmp, dockerBin) : startDockerd(state.tmp, dockerBin, dockerd);
    engines.push(e);
    state.engines.push(e);
  }
  await Promise.all(engines.map((e) => e.waitReady()));
  log(`engines up: ${engines.map((e) => e.name).join(', ')}`);

  for (const e of engines) {
    const r = await e.dockerOk(['import', tarFile, IMAGE], { timeoutMs: 300_000 });
    log(`${e.name}: imported ${IMAGE} (${r.stdout.trim().slice(0, 19)}) in ${r.ms.toFixed(0)} ms`);
  }

  const info = {
    date: new Date().toISOString(),
    machine: machine(),
    dockerCli: { path: dockerBin, version: firstLine(dockerBin, ['--version']) },
    busyboxTar: tarSource,
    engines: {},
  };
  for (const e of engines) info.engines[e.name] = await e.versions();
  if (info.engines.berth) Object.assign(info.engines.berth, { binary: BERTHD.startsWith(ROOT + '/') ? path.relative(ROOT, BERTHD) : BERTHD, git: gitRev() });

  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  let failed = false;
  const rows = [];
  for (const name of cases) {
    const c = CASES[name];
    const ctx = { tmp: state.tmp, busyboxTar: tarFile, runs: opts.runs };
    let result;
    try {
      result = await runCase(name, c, engines, opts, ctx);
    } catch (err) {
      failed = true;
      if (state.interrupted) break;
      console.error(`\nbench: case ${name} failed: ${err.message}`);
      for (const e of engines) console.error(`--- ${e.name} log tail ---\n${tail(e.log, 20)}`);
      continue;
    }
    const { ratio, row } = report(name, c, result, opts);
    rows.push(row);
    const json = {
      case: name,
      command: c.command,
      runs: opts.runs,
      warmup: opts.warmup,
      ...info,
      results: { berth: result.berth ?? null, dockerd: result.dockerd ?? null },
      ratio: ratio != null ? { 'berth/dockerd median': ratio } : null,
    };
    const file = path.join(RESULTS_DIR, `${name}.json`);
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
