#!/usr/bin/env node
// berthd's memory over many container runs, sampled every --every runs of
// `docker run --rm busybox true`: RSS, the V8 heap and the libuv handles.
//
//   npm run build && node bench/memory.mjs [--runs 1000] [--every 100] [--heap] [--keep] [--node-flags="..."]
//
// berthd (dist/berthd.js, run as bin/berthd runs it) starts on a throw-away
// root under /tmp/bmem-XXXXXX with its own socket, so it can run beside other
// daemons. Root only (berthd needs it). Each sample sends SIGUSR2, which makes
// berthd write a diagnostic report (--report-on-signal: heap spaces, libuv
// handles; cheap, no GC), and reads VmRSS from /proc. With --heap, samples
// also take a heap snapshot (SIGTTIN, --heapsnapshot-signal; a full GC first)
// and print the object groups that grew since the first one; snapshots
// themselves inflate RSS, so compare RSS from runs without --heap. With
// --keep, the temp root stays, with the first and last snapshots for Chrome
// DevTools' Comparison view (Memory tab, "Load").
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RUNS = opt('runs', 1000);
const EVERY = opt('every', 100);
const KEEP = args.includes('--keep');
const HEAP = args.includes('--heap');
// Extra node flags for berthd, to try V8 settings: --node-flags="--max-semi-space-size=1".
const NODE_FLAGS = (args.find((a) => a.startsWith('--node-flags=')) ?? '--node-flags=').slice('--node-flags='.length).split(' ').filter(Boolean);

const base = fs.mkdtempSync('/tmp/bmem-');
const socket = path.join(base, 's.sock');
const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, BERTH_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(base, 'docker-config') };
fs.writeFileSync(path.join(base, 'daemon.json'), '{}');
const logFd = fs.openSync(path.join(base, 'berthd.log'), 'a');
const daemon = spawn(process.execPath, [
  ...NODE_FLAGS, '--heapsnapshot-signal=SIGTTIN', '--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${base}`,
  path.join(ROOT, 'dist', 'berthd.js'),
  '--data-root', path.join(base, 'd'), '--exec-root', path.join(base, 'x'), '-H', `unix://${socket}`, '--config-file', path.join(base, 'daemon.json'),
], { cwd: base, stdio: ['ignore', logFd, logFd], env: { UV_THREADPOOL_SIZE: '64', ...process.env } });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ping = () => new Promise((resolve) => {
  const req = http.get({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
  req.on('error', () => resolve(false));
});

function cli(cmd, argv) {
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function rssKB() {
  return Number(fs.readFileSync(`/proc/${daemon.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
}

// Sends the signal and waits for the new file (ending in `ext`) to be complete JSON.
async function dump(signal, ext) {
  const before = new Set(fs.readdirSync(base).filter((f) => f.endsWith(ext)));
  daemon.kill(signal);
  for (;;) {
    await sleep(100);
    const f = fs.readdirSync(base).find((n) => n.endsWith(ext) && !before.has(n));
    if (!f) continue;
    const p = path.join(base, f);
    try {
      return { file: p, data: JSON.parse(fs.readFileSync(p, 'utf8')) };
    } catch {
      // still being written
    }
  }
}

// Total self size and the biggest groups by constructor/type name.
function summarize(snap) {
  const m = snap.snapshot.meta;
  const nf = m.node_fields.length;
  const typeI = m.node_fields.indexOf('type');
  const nameI = m.node_fields.indexOf('name');
  const sizeI = m.node_fields.indexOf('self_size');
  const types = m.node_types[typeI];
  const groups = new Map();
  let total = 0;
  const n = snap.nodes;
  for (let i = 0; i < n.length; i += nf) {
    const type = types[n[i + typeI]];
    const name = type === 'object' || type === 'closure' ? snap.strings[n[i + nameI]] : `(${type})`;
    const g = groups.get(name) ?? { count: 0, size: 0 };
    g.count++;
    g.size += n[i + sizeI];
    total += n[i + sizeI];
    groups.set(name, g);
  }
  return { total, groups };
}

const samples = [];
let first;
async function sample(runs) {
  const rss = rssKB();
  const { file: reportFile, data: report } = await dump('SIGUSR2', '.json');
  fs.rmSync(reportFile);
  const h = report.javascriptHeap;
  const handles = new Map();
  for (const x of report.libuv) handles.set(x.type, (handles.get(x.type) ?? 0) + 1);
  samples.push({ runs, rssKB: rss, heapUsed: h.usedMemory });
  console.log(`runs=${String(runs).padStart(5)}  rss=${(rss / 1024).toFixed(1)} MB  heap used=${(h.usedMemory / 1048576).toFixed(1)} MB of ${(h.totalMemory / 1048576).toFixed(1)} MB  ` +
    `handles: ${[...handles].map(([k, n]) => `${k}=${n}`).join(' ')}`);
  if (!HEAP) return;
  const { file, data: snap } = await dump('SIGTTIN', '.heapsnapshot');
  const s = summarize(snap);
  console.log(`    after GC: heap=${(s.total / 1048576).toFixed(2)} MB`);
  if (!first) first = s;
  else {
    // Groups that grew the most since the first sample.
    const grown = [...s.groups].map(([k, g]) => [k, g.count - (first.groups.get(k)?.count ?? 0), g.size - (first.groups.get(k)?.size ?? 0)]).filter((x) => x[1] > 0).sort((a, b) => b[2] - a[2]).slice(0, 8);
    for (const [k, c, b] of grown) console.log(`    +${c} ${k} (+${b} bytes)`);
  }
  if (!KEEP || (samples.length > 1 && runs !== RUNS)) fs.rmSync(file);
}

let failed = false;
try {
  for (let i = 0; !(await ping()); i++) {
    if (daemon.exitCode !== null || i > 300) throw new Error(`berthd did not start: ${fs.readFileSync(path.join(base, 'berthd.log'), 'utf8')}`);
    await sleep(50);
  }
  cli(path.join(ROOT, 'bin', 'berth'), ['base', 'busybox']);
  // One warm-up run: code paths load lazily (the first run loads modules).
  cli('docker', ['run', '--rm', '--network', 'none', 'busybox', 'true']);
  await sample(0);
  for (let i = 1; i <= RUNS; i++) {
    cli('docker', ['run', '--rm', '--network', 'none', 'busybox', 'true']);
    if (i % EVERY === 0 || i === RUNS) await sample(i);
  }
  const a = samples[0];
  const z = samples[samples.length - 1];
  console.log(`RSS ${(a.rssKB / 1024).toFixed(1)} -> ${(z.rssKB / 1024).toFixed(1)} MB (${(((z.rssKB - a.rssKB) / a.rssKB) * 100).toFixed(1)}%) over ${RUNS} runs`);
} catch (err) {
  failed = true;
  console.error(err.message);
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  if (KEEP) console.log(`kept ${base}`);
  else fs.rmSync(base, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
