// Shared pieces for the archive integration tests: building (hostile) tars,
// temp dirs that are always removed, and snapshots of trees for comparison.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { LinuxHost } from '../../../src/host/linux';
import { paxAwarePack, type TarHeader } from '../../../src/engine/layers/pax';
import { paxFor } from '../../../src/engine/layers/pack';

export const host = new LinuxHost();

export interface TarEntry {
  header: TarHeader;
  body?: string | Buffer;
  xattrs?: Record<string, Buffer | string>; // written as SCHILY.xattr.* PAX records
}

// Builds a tar in memory. Names are used verbatim: "../x", "/abs" and so on.
export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const { pack, withPax } = paxAwarePack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const h: TarHeader = { mtime: new Date(1_000_000_000_000), ...e.header };
    // Long names, big ids and xattrs go into one PAX block, as berth packs them.
    const pax = paxFor(h, Object.entries(e.xattrs ?? {}).map(([k, v]) => [k, Buffer.from(v)]));
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body !== undefined || (h.type ?? 'file') === 'file') pack.entry(withPax(h, pax), body ?? Buffer.alloc(0), cb);
      else pack.entry(withPax(h, pax), cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function tarStream(buf: Buffer): Readable {
  return Readable.from([buf]);
}

// A fresh temp dir removed when the test ends, pass or fail.
export function tempDir(t: TestContext, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// A layer target with nothing else in its parent, and a canary outside it.
export interface Sandbox {
  base: string; // parent of layer: must hold only "layer" afterwards
  layer: string;
  canaryDir: string; // /tmp/berth-canary-XXXX
  canary: string; // canaryDir/canary
}

export function sandbox(t: TestContext): Sandbox {
  const base = tempDir(t, 'berth-archive-');
  const layer = path.join(base, 'layer');
  fs.mkdirSync(layer);
  const canaryDir = tempDir(t, 'berth-canary-');
  const canary = path.join(canaryDir, 'canary');
  fs.writeFileSync(canary, 'canary\n', { mode: 0o644 });
  fs.utimesSync(canary, 1_500_000_000, 1_500_000_000);
  fs.utimesSync(canaryDir, 1_500_000_000, 1_500_000_000);
  return { base, layer, canaryDir, canary };
}

export interface NodeInfo {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  nlink: number;
  rdev: number;
  content?: string; // sha256 of a file, target of a symlink
  xattrs: Record<string, string>; // hex values
}

function typeOf(st: fs.Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'other';
}

export function xattrsOf(p: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of host.llistxattr(p).sort()) out[name] = host.lgetxattr(p, name)?.toString('hex') ?? '';
  return out;
}

export function info(p: string): NodeInfo {
  const st = fs.lstatSync(p);
  const n: NodeInfo = {
    type: typeOf(st),
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: st.isFile() ? st.size : 0,
    mtime: Math.floor(st.mtimeMs / 1000),
    nlink: st.isDirectory() ? 0 : st.nlink,
    rdev: st.rdev,
    xattrs: xattrsOf(p),
  };
  // Never open anything but regular files: the tree may hold devices/FIFOs.
  if (st.isFile()) n.content = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  if (st.isSymbolicLink()) n.content = fs.readlinkSync(p);
  return n;
}

// Every node under dir (dir itself as ""), keyed by relative path.
export function snapshot(dir: string): Record<string, NodeInfo> {
  const out: Record<string, NodeInfo> = { '': info(dir) };
  const walk = (abs: string, rel: string) => {
    for (const name of fs.readdirSync(abs).sort()) {
      const a = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      out[r] = info(a);
      if (out[r].type === 'dir') walk(a, r);
    }
  };
  walk(dir, '');
  return out;
}

export function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
