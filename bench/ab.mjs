#!/usr/bin/env node
// A/B of berth builds against each other, interleaved, on one scratch ext4:
// what a change gains, independent of the machine's load (which moves every
// column alike). Not a comparison with dockerd: that is bench/run.mjs.
//
//   sudo node bench/ab.mjs --root A=/path/to/old --root B=. [--runs 30] [--case run|ps|both]
//
// Each root is a berth tree (bin/berthd, bin/berth, dist/, build/). `run`
// times `docker run --rm --network none busybox true` against each root's
// berthd; `ps` times each root's `bin/berth ps` (against the first root's
// daemon, one container running) and `node -e 0`. The order of the variants
// rotates every iteration. Prints median, p90, min per variant and the
// ratio of each median to the first's.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';

const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const roots = [];
for (let i = 0; i < args.length; i++) if (args[i] === '--root') {
  const [name, dir] = args[i + 1].split('=');
  roots.push({ name, dir: path.resolve(dir) });
}
if (roots.length < 1) throw new Error('give --root NAME=DIR at least once');
const RUNS = Number(opt('runs', 30));
const WARMUP = Number(opt('warmup', 3));
const CASE = opt('case', 'both');

const tmp = fs.mkdtempSync('/tmp/bab-');
const fsDir = path.join(tmp, 'fs');
const daemons = [];
let mounted = false;

function sh(cmd, a) {
  const r = spawnSync(cmd, a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${a.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function timed(cmd, a, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c = spawn(cmd, a, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${a.join(' ')} exited ${code}: ${err}`));
      else resolve({ ms, out });
    });
  });
}

function ping(sock) {
  return new Promise((r) => {
    const req = http.get({ socketPath: sock, path: '/_ping' }, (res) => { res.resume(); r(res.statusCode === 200); });
    req.on('error', () => r(false));
  });
}

async function startBerthd(root, i) {
  const base = path.join(fsDir, `e${i}`);
  fs.mkdirSync(base);
  const sock = path.join(base, 's.sock');
  const a = Math.floor(Math.random() * 60) + 64, b = 4 * Math.floor(Math.random() * 60);
  const conf = path.join(base, 'daemon.json');
  fs.writeFileSync(conf, '{}');
  const common = ['--data-root', path.join(base, 'd'), '--exec-root', path.join(base, 'x'), '--config-file', conf];
  const bridge = `bab${Math.random().toString(16).slice(2, 8)}`;
  const child = spawn(path.join(root.dir, 'bin/berthd'), [...common, '-H', `unix://${sock}`, '--pidfile', path.join(base, 'pid'),
    '--bridge', bridge, '--bip', `10.${a}.${b}.1/24`, '--default-address-pool', `base=10.${a}.${b}.0/22,size=24`],
  { stdio: ['ignore', fs.openSync(path.join(base, 'log'), 'a'), fs.openSync(path.join(base, 'log'), 'a')] });
  const d = { root, sock, child, common, env: { ...process.env, DOCKER_HOST: `unix://${sock}`, BERTH_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(base, 'dc') } };
  daemons.push(d);
  for (let t = 0; !(await ping(sock)); t++) {
    if (t > 500) throw new Error(`berthd of ${root.name} did not start`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return d;
}

async function teardown() {
  for (const d of daemons) {
    // Containers first (a run cut short leaves them running), so their
    // shims, loggers and cgroups go with them.
    if (d.child.exitCode === null) {
      const ids = spawnSync('docker', ['ps', '-aq'], { env: d.env, encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
      if (ids.length) spawnSync('docker', ['rm', '-f', ...ids], { env: d.env, stdio: 'ignore' });
    }
    if (d.child.exitCode === null) {
      d.child.kill('SIGTERM');
      await new Promise((r) => { d.child.once('exit', r); setTimeout(r, 10000); });
    }
    spawnSync(path.join(d.root.dir, 'bin/berthd'), [...d.common, '--cleanup-networks'], { stdio: 'ignore' });
  }
  spawnSync('sh', ['-c', `grep -o ' ${tmp}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
  if (mounted) spawnSync('umount', ['-l', fsDir]);
  fs.rmSync(tmp, { recursive: true, force: true });
}

const stats = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return { median: s[Math.floor(s.length / 2)], p90: s[Math.min(s.length - 1, Math.ceil(s.length * 0.9) - 1)], min: s[0] };
};
const f = (x) => x.toFixed(1);

function report(title, names, samples) {
  const base = stats(samples[names[0]]).median;
  console.log(`\n${title} (${samples[names[0]].length} runs; load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`);
  for (const n of names) {
    const s = stats(samples[n]);
    console.log(`  ${n.padEnd(12)} median ${f(s.median).padStart(7)}  p90 ${f(s.p90).padStart(7)}  min ${f(s.min).padStart(7)}  ratio ${(s.median / base).toFixed(3)}`);
  }
}

async function main() {
  fs.mkdirSync(fsDir);
  const img = path.join(tmp, 'disk.img');
  fs.closeSync(fs.openSync(img, 'w'));
  fs.truncateSync(img, 3 * 2 ** 30);
  sh('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', img]);
  sh('mount', ['-o', 'loop', img, fsDir]);
  mounted = true;
  const require = createRequire(import.meta.url);
  const tarPath = path.join(tmp, 'busybox.tar');
  await pipeline(require(path.join(HERE, 'out/src/cli/base/busybox.js')).busyboxTar(), fs.createWriteStream(tarPath));
  const ds = [];
  for (const [i, r] of roots.entries()) {
    const d = await startBerthd(r, i);
    await timed('docker', ['import', tarPath, 'busybox:latest'], d.env);
    ds.push(d);
  }
  const rotate = (xs, i) => xs.map((_, k) => xs[(k + i) % xs.length]);

  if (CASE === 'run' || CASE === 'both') {
    const samples = Object.fromEntries(roots.map((r) => [r.name, []]));
    for (let i = -WARMUP; i < RUNS; i++) {
      for (const d of rotate(ds, i + WARMUP)) {
        const { ms } = await timed('docker', ['run', '--rm', '--network', 'none', 'busybox', 'true'], d.env);
        if (i >= 0) samples[d.root.name].push(ms);
      }
    }
    report('docker run --rm --network none busybox true', roots.map((r) => r.name), samples);
  }
  if (CASE === 'ps' || CASE === 'both') {
    const d0 = ds[0];
    await timed('docker', ['run', '-d', '--name', 'ab-ps', '--network', 'none', 'busybox', 'sleep', '100000'], d0.env);
    const first = (await timed(path.join(roots[0].dir, 'bin/berth'), ['ps'], d0.env)).out;
    for (const r of roots) {
      const out = (await timed(path.join(r.dir, 'bin/berth'), ['ps'], d0.env)).out;
      // Relative times move between two runs (and the widths they set): the
      // header's words and the container must match.
      const head = (t) => t.split('\n')[0].split(/\s+/).join(' ');
      if (head(out) !== head(first) || !out.includes('ab-ps')) throw new Error(`berth ps of ${r.name} differs:\n${out}\n---\n${first}`);
    }
    const names = [...roots.map((r) => r.name), 'node -e 0'];
    const samples = Object.fromEntries(names.map((n) => [n, []]));
    const cmds = [...roots.map((r) => [r.name, path.join(r.dir, 'bin/berth'), ['ps']]), ['node -e 0', process.execPath, ['-e', '0']]];
    for (let i = -WARMUP; i < RUNS; i++) {
      for (const [name, cmd, a] of rotate(cmds, i + WARMUP)) {
        const { ms } = await timed(cmd, a, d0.env);
        if (i >= 0) samples[name].push(ms);
      }
    }
    report('berth ps', names, samples);
    const node = samples['node -e 0'];
    for (const r of roots) {
      const over = samples[r.name].map((x, k) => x - node[k]);
      const s = stats(over);
      console.log(`  ${r.name} over node -e 0, per iteration: median ${f(s.median)} min ${f(s.min)}; by medians ${f(stats(samples[r.name]).median - stats(node).median)}, by minima ${f(stats(samples[r.name]).min - stats(node).min)}`);
    }
    await timed('docker', ['rm', '-f', 'ab-ps'], d0.env);
  }
}

for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => { teardown().finally(() => process.exit(130)); });
main().then(teardown, async (err) => { console.error(err); await teardown(); process.exit(1); });
