// Starts a real berthd on a temporary data root, exec root and socket, and
// tears everything down again (containers, shims, mounts, dirs) even when a
// test fails. Nothing here is mocked: runc, conmon and overlayfs are real.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { busyboxTar } from '../../src/cli/base/busybox';
import { projectRoot } from '../../src/util/paths';

const pexec = promisify(execFile);

export const ROOT = projectRoot();
export const BERTHD = path.join(ROOT, 'bin', 'berthd');
export const BERTH = path.join(ROOT, 'bin', 'berth');

export interface TestDaemon {
  base: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  env: NodeJS.ProcessEnv;
  log(): string;
  // Kills berthd with SIGKILL (containers keep running under conmon).
  kill9(): Promise<void>;
  // Starts berthd again on the same roots.
  restart(): Promise<void>;
  stop(): Promise<void>;
  // Its default bridge and the /20 its networks' subnets come from: every
  // test daemon has its own, since tests of several engineers run at once.
  net: TestNet;
}

export interface TestNet {
  bridge: string;
  // The default bridge's subnet (the /20's first /24).
  bridgeSubnet: string;
  // The i-th /24 of the /20 (1-15), for networks created with --subnet.
  subnet(i: number): string;
  args: string[];
}

// A bridge name and a 10.x.y.0/20 no route of this host uses, picked at random.
export function testNet(): TestNet {
  const routes = fs.readFileSync('/proc/net/route', 'utf8');
  for (;;) {
    const a = 64 + Math.floor(Math.random() * 64);
    const b = 16 * Math.floor(Math.random() * 16);
    // /proc/net/route holds little-endian hex: 10.a.b.0 is 00bbaa0a.
    const hex = (x: number) => x.toString(16).toUpperCase().padStart(2, '0');
    if (new RegExp(`\\t[0-9A-F]{2}${hex(b).slice(0, 1)}[0-9A-F]${hex(a)}0A\\t`).test(routes)) continue;
    const bridge = `bt${Math.random().toString(16).slice(2, 8)}`;
    const subnet = (i: number) => `10.${a}.${b + i}.0/24`;
    return {
      bridge,
      bridgeSubnet: subnet(0),
      subnet,
      args: ['--bridge', bridge, '--bip', `10.${a}.${b}.1/24`, '--default-address-pool', `base=10.${a}.${b}.0/20,size=24`],
    };
  }
}

export interface DaemonOptions {
  // A data root on an ext4 filesystem of its own, this many MiB (a disk
  // that can fill up).
  dataRootMiB?: number;
}

export async function startDaemon(extraArgs: string[] = [], opts: DaemonOptions = {}): Promise<TestDaemon> {
  // Short paths: conmon's attach socket path must stay under 108 bytes.
  const base = fs.mkdtempSync('/tmp/bt-');
  const dataRoot = path.join(base, 'd');
  if (opts.dataRootMiB) {
    const img = path.join(base, 'disk.img');
    fs.mkdirSync(dataRoot);
    fs.closeSync(fs.openSync(img, 'w'));
    fs.truncateSync(img, opts.dataRootMiB << 20);
    await pexec('mkfs.ext4', ['-q', '-F', img]);
    await pexec('mount', ['-o', 'loop', img, dataRoot]);
  }
  const execRoot = path.join(base, 'x');
  const socket = path.join(base, 's.sock');
  const logFile = path.join(base, 'berthd.log');
  const net = testNet();
  let child: ChildProcess | undefined;
  const running = () => !!child && child.exitCode === null && child.signalCode === null;

  const launch = async () => {
    const out = fs.openSync(logFile, 'a');
    child = spawn(BERTHD, ['--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`, '--pidfile', path.join(base, 'berthd.pid'), '--log-level', 'debug', '--config-file', path.join(base, 'daemon.json'), ...net.args, ...extraArgs], {
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    const started = Date.now();
    while (!(await ping(socket))) {
      if (!running()) throw new Error(`berthd exited with ${child.exitCode}:\n${fs.readFileSync(logFile, 'utf8')}`);
      if (Date.now() - started > 15000) throw new Error(`berthd did not answer /_ping:\n${fs.readFileSync(logFile, 'utf8')}`);
      await sleep(20);
    }
  };
  fs.writeFileSync(path.join(base, 'daemon.json'), '{}');

  const d: TestDaemon = {
    base,
    dataRoot,
    execRoot,
    socket,
    net,
    env: { ...process.env, DOCKER_HOST: `unix://${socket}`, BERTH_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(base, 'docker-config') },
    log: () => fs.readFileSync(logFile, 'utf8'),
    kill9: async () => {
      if (running()) {
        const exited = new Promise((r) => child!.once('exit', r));
        child!.kill('SIGKILL');
        await exited;
      }
    },
    restart: async () => {
      await d.kill9();
      await launch();
    },
    stop: async () => {
      if (running()) {
        const exited = new Promise((r) => child!.once('exit', r));
        child!.kill('SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (running()) child!.kill('SIGKILL');
      }
      await cleanupRoots(base, execRoot);
    },
  };
  try {
    await launch();
  } catch (err) {
    await d.stop();
    throw err;
  }
  return d;
}

// Kills every shim and container started under execRoot, deletes runtime
// state, unmounts everything below base, and removes the dirs.
export async function cleanupRoots(base: string, execRoot: string): Promise<void> {
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.startsWith('conmon') || cmd.includes('/conmon\0')) {
      if (cmd.includes(execRoot)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }
  const runtimeRoot = path.join(execRoot, 'runtime');
  for (const rt of safeReaddir(runtimeRoot)) {
    const stateRoot = path.join(runtimeRoot, rt);
    for (const id of safeReaddir(stateRoot)) {
      await pexec(rt === 'crun' ? 'crun' : 'runc', ['--root', stateRoot, 'delete', '--force', id]).catch(() => {});
    }
  }
  await cleanupNetworks(base, execRoot);
  const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && (m.startsWith(base + '/') || m === base));
  for (const m of mounts.sort((a, b) => b.length - a.length)) await pexec('umount', ['-l', m]).catch(() => {});
  // Loop devices of a data root on a filesystem of its own.
  const loops = (await pexec('losetup', ['--list', '--noheadings', '--raw', '-O', 'NAME,BACK-FILE']).catch(() => ({ stdout: '' }))).stdout;
  for (const [dev, file] of loops.split('\n').map((l) => l.split(' '))) {
    if (file?.startsWith(base + '/')) await pexec('losetup', ['-d', dev]).catch(() => {});
  }
  fs.rmSync(base, { recursive: true, force: true });
}

// The bridges, veths, rules, DNS and namespaces of a data root whose
// containers were killed: berthd tears them down itself.
async function cleanupNetworks(base: string, execRoot: string): Promise<void> {
  const dataRoot = path.join(base, 'd');
  if (!fs.existsSync(path.join(dataRoot, 'network'))) return;
  const cfg = path.join(base, 'cleanup.json');
  fs.writeFileSync(cfg, '{}');
  await pexec(BERTHD, ['--data-root', dataRoot, '--exec-root', execRoot, '--config-file', cfg, '--cleanup-networks']).catch((err) => {
    process.stderr.write(`network cleanup of ${base}: ${err.stderr ?? err.message}\n`);
  });
}

function safeReaddir(p: string): string[] {
  try {
    return fs.readdirSync(p);
  } catch {
    return [];
  }
}

export function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.end();
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

// Runs a client command (docker or berth) against the daemon.
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer, timeoutMs = 60000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

export const docker = (d: TestDaemon, ...args: string[]) => run('docker', args, d.env);
export const berth = (d: TestDaemon, ...args: string[]) => run(BERTH, args, d.env);

// A docker command that must succeed: its stdout, trimmed.
export async function dockerOk(d: TestDaemon, ...args: string[]): Promise<string> {
  const r = await docker(d, ...args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

// `docker inspect` of one object, parsed.
export const inspectOf = async (d: TestDaemon, ref: string) => JSON.parse(await dockerOk(d, 'inspect', ref))[0];

let tarFile: string | undefined;
// A busybox rootfs tar from Debian's busybox-static, built once per process.
export async function busyboxTarFile(): Promise<string> {
  if (tarFile && fs.existsSync(tarFile)) return tarFile;
  const file = path.join(os.tmpdir(), `berth-busybox-${process.pid}.tar`);
  await new Promise<void>((resolve, reject) => {
    const out = fs.createWriteStream(file);
    busyboxTar().pipe(out).on('finish', resolve).on('error', reject);
  });
  process.on('exit', () => fs.rmSync(file, { force: true }));
  tarFile = file;
  return file;
}

export async function importBusybox(d: TestDaemon, name = 'busybox'): Promise<string> {
  const r = await run('docker', ['import', await busyboxTarFile(), name], d.env);
  if (r.code !== 0) throw new Error(`docker import failed: ${r.stderr}`);
  return r.stdout.trim();
}

// A raw API request, for status codes and bodies the CLIs hide.
export function api(d: TestDaemon, method: string, p: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, path: p, method, headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
