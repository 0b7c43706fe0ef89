// berth cp: docker's cp.go. The path rules and the tar work are the
// client's; the daemon only stats paths and serves or takes archives.
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { ClientError } from '../../../client/client';
import { HELP_FLAG, StatusError, type Command, type Context } from '../../command';
import { isTTY, pathError } from '../../io';
import {
  getRebaseName, prepareArchiveCopy, resolveLocalPath, splitCpArg, splitPathDirEntry, type CopyInfo,
} from '../../cp/paths';
import { humanSize } from '../../output/format';
import { clean, dir, join } from '../../../util/gopath';

// The daemon's X-Docker-Container-Path-Stat: mode is a Go os.FileMode.
interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const MODE_DEVICE = 2 ** 26;
const MODE_IRREGULAR = 2 ** 19;

const has = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;

function decodeStat(header: string | string[] | undefined): PathStat {
  const text = Buffer.from(String(header ?? ''), 'base64').toString('utf8');
  return JSON.parse(text || '{}') as PathStat;
}

async function statPath(ctx: Context, container: string, p: string): Promise<PathStat> {
  const res = await ctx.client().request('HEAD', `/containers/${encodeURIComponent(container)}/archive`, { query: { path: p } });
  res.body.resume();
  return decodeStat(res.headers['x-docker-container-path-stat']);
}

// docker's ValidateOutputPathFileMode.
function outputModeError(mode: number): string | undefined {
  if (has(mode, MODE_DEVICE)) return 'got a device';
  if (has(mode, MODE_IRREGULAR)) return 'got an irregular file';
  return undefined;
}

// docker's ValidateOutputPath for a local destination.
function validateOutputPath(p: string): void {
  const d = dir(clean(p));
  if (d !== '' && d !== '.' && !fs.existsSync(d)) throw new Error(`invalid output path: directory ${JSON.stringify(d)} does not exist`);
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw pathError('stat', p, e);
  }
  if (st.isDirectory() || st.isFile()) return;
  const why = st.isBlockDevice() || st.isCharacterDevice() ? 'got a device' : 'got an irregular file';
  throw new Error(`invalid output path: ${JSON.stringify(p)} must be a directory or a regular file: ${why}`);
}

// go-archive's CopyInfoDestinationPath: a local destination, links followed.
function localDestination(p: string): CopyInfo {
  let cur = p;
  for (let n = 0; ; n++) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw pathError('lstat', cur, e);
      const [parent] = splitPathDirEntry(cur);
      let ps: fs.Stats;
      try {
        ps = fs.statSync(parent);
      } catch (e2) {
        throw pathError('stat', parent, e2);
      }
      if (!ps.isDirectory()) throw new Error('not a directory');
      return { path: cur, exists: false, isDir: false, rebaseName: '' };
    }
    if (!st.isSymbolicLink()) return { path: cur, exists: true, isDir: st.isDirectory(), rebaseName: '' };
    if (n >= 10) throw new Error(`too many symlinks in ${p}`);
    const target = fs.readlinkSync(cur);
    cur = target.startsWith('/') ? target : join(splitPathDirEntry(cur)[0], target);
  }
}

// go-archive's CopyInfoSourcePath (with ResolveHostSourcePath).
function localSource(p: string, followLink: boolean): CopyInfo {
  let resolved: string;
  let rebaseName = '';
  const evalSymlinks = (x: string) => {
    try {
      return fs.realpathSync(x || '.');
    } catch (e) {
      throw pathError('lstat', x, e);
    }
  };
  if (followLink) {
    [resolved, rebaseName] = getRebaseName(p, evalSymlinks(p));
  } else {
    const i = p.lastIndexOf('/');
    const dirPart = p.slice(0, i + 1);
    const basePart = p.slice(i + 1);
    resolved = `${evalSymlinks(dirPart).replace(/\/$/, '')}/${basePart}`;
    if (p.endsWith('/') && baseOf(p) !== baseOf(resolved)) rebaseName = baseOf(p);
  }
  let st: fs.Stats;
  try {
    st = fs.lstatSync(resolved);
  } catch (e) {
    throw pathError('lstat', resolved, e);
  }
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

function baseOf(p: string): string {
  return splitPathDirEntry(p)[1];
}

// Counts the bytes that pass, for "Successfully copied" and the progress line.
function counted(src: Readable, total: { n: number }): Readable {
  src.on('data', (c: Buffer) => {
    total.n += c.length;
  });
  return src;
}

// docker's copyProgress: a live byte count on a terminal stderr.
function progress(ctx: Context, header: string, total: { n: number }): () => void {
  if (!isTTY(ctx.err)) return () => {};
  const err = ctx.err;
  err.write('\x1b7Preparing to copy...');
  err.write('\x1b[?25l\x1b8\x1b[2K');
  err.write(header + humanSize(0, 3));
  let last = 0;
  const timer = setInterval(() => {
    if (total.n === last) return;
    err.write(`\x1b[${header.length + 1}G\x1b[0K${humanSize(total.n, 3)}`);
    last = total.n;
  }, 75);
  return () => {
    clearInterval(timer);
    err.write('\x1b[?25h\x1b8\x1b[2K');
  };
}

interface CpConfig {
  container: string;
  src: string;
  dst: string;
  followLink: boolean;
  copyUIDGID: boolean;
  quiet: boolean;
}

async function copyFromContainer(ctx: Context, c: CpConfig): Promise<void> {
  let dstPath = c.dst;
  let srcPath = c.src;
  if (dstPath !== '-') dstPath = resolveLocalPath(dstPath);
  validateOutputPath(dstPath);

  let rebaseName = '';
  if (c.followLink) {
    const st = await statPath(ctx, c.container, srcPath).catch(() => undefined);
    if (st && has(st.mode, MODE_SYMLINK)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = join(splitPathDirEntry(srcPath)[0], target);
      [srcPath, rebaseName] = getRebaseName(srcPath, target);
    }
  }

  const res = await ctx.client().request('GET', `/containers/${encodeURIComponent(c.container)}/archive`, { query: { path: srcPath } });
  if (dstPath === '-') {
    const { copyToOut } = await import('../../output/copy');
    await copyToOut(res.body, ctx.out);
    return;
  }
  const stat = decodeStat(res.headers['x-docker-container-path-stat']);
  const srcInfo: CopyInfo = { path: srcPath, exists: true, isDir: has(stat.mode, MODE_DIR), rebaseName };
  const total = { n: 0 };
  const content = c.quiet ? res.body : counted(res.body, total);
  const rebases: [string, string][] = [];
  if (rebaseName) rebases.push([splitPathDirEntry(srcPath)[1], rebaseName]);
  const dstInfo = localDestination(dstPath);
  const { dstDir, rebase } = prepareArchiveCopy(srcInfo, dstInfo);
  if (rebase) rebases.push(rebase);
  const { extractTo } = await import('../../cp/archive');
  const stop = c.quiet ? () => {} : progress(ctx, 'Copying from container - ', total);
  try {
    await extractTo(content, dstDir, rebases);
  } finally {
    stop();
  }
  if (!c.quiet) ctx.err.write(`Successfully copied ${humanSize(total.n, 3)} to ${dstPath}\n`);
}

async function copyToContainer(ctx: Context, c: CpConfig): Promise<void> {
  let srcPath = c.src;
  const dstPath = c.dst;
  if (srcPath !== '-') srcPath = resolveLocalPath(srcPath);

  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false, rebaseName: '' };
  let dstStat: PathStat | undefined;
  try {
    dstStat = await statPath(ctx, c.container, dstPath);
    if (has(dstStat.mode, MODE_SYMLINK)) {
      let target = dstStat.linkTarget;
      if (!target.startsWith('/')) target = join(splitPathDirEntry(dstPath)[0], target);
      dstInfo.path = target;
      dstStat = await statPath(ctx, c.container, target);
    }
  } catch (e) {
    // A missing destination is fine if its parent exists; anything else
    // shows when the archive is put.
    if (!(e instanceof ClientError)) throw e;
    dstStat = undefined;
  }
  const why = dstStat && outputModeError(dstStat.mode);
  if (why) throw new Error(`destination "${c.container}:${dstPath}": must be a directory or a regular file: ${why}`);
  if (dstStat) {
    dstInfo.exists = true;
    dstInfo.isDir = has(dstStat.mode, MODE_DIR);
  }

  let content: Readable;
  let resolvedDst: string;
  const total = { n: 0 };
  if (srcPath === '-') {
    if (!dstInfo.isDir) throw new Error(`destination "${c.container}:${dstPath}" must be a directory`);
    content = ctx.in;
    resolvedDst = dstInfo.path;
  } else {
    const srcInfo = localSource(srcPath, c.followLink);
    const { dstDir, rebase } = prepareArchiveCopy(srcInfo, dstInfo);
    const { packResource } = await import('../../cp/archive');
    // The rename happens as the archive is made (docker renames a copy of it).
    let rebaseName = srcInfo.rebaseName;
    if (rebase) rebaseName = rebase[1] === splitPathDirEntry(srcInfo.path)[1] && !srcInfo.rebaseName ? '' : rebase[1];
    content = packResource(srcInfo.path, rebaseName);
    resolvedDst = dstDir;
    if (!c.quiet) content = counted(content, total);
  }
  const stop = c.quiet ? () => {} : progress(ctx, 'Copying to container - ', total);
  try {
    await ctx.client().call('PUT', `/containers/${encodeURIComponent(c.container)}/archive`, {
      query: { path: resolvedDst, noOverwriteDirNonDir: 'true', copyUIDGID: c.copyUIDGID ? 'true' : undefined },
      body: content,
      headers: { 'Content-Type': 'application/x-tar' },
    });
  } finally {
    stop();
  }
  if (!c.quiet) ctx.err.write(`Successfully copied ${humanSize(total.n, 3)} to ${c.container}:${dstInfo.path}\n`);
}

export const cpCommand: Command = {
  name: 'cp',
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  summary: 'Copy files/folders between a container and the local filesystem',
  minArgs: 2,
  maxArgs: 2,
  flags: [
    { name: 'archive', short: 'a', type: 'bool', desc: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', desc: 'Always follow symbol link in SRC_PATH' },
    HELP_FLAG,
    {
      name: 'quiet',
      short: 'q',
      type: 'bool',
      desc: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached',
    },
  ],
  async run(ctx, p) {
    const [srcContainer, srcPath] = splitCpArg(p.args[0]);
    const [dstContainer, dstPath] = splitCpArg(p.args[1]);
    if (srcContainer && dstContainer) throw new StatusError(1, 'copying between containers is not supported');
    if (!srcContainer && !dstContainer) throw new StatusError(1, 'must specify at least one container source');
    const c: CpConfig = {
      container: srcContainer || dstContainer,
      src: srcPath,
      dst: dstPath,
      followLink: Boolean(p.flags['follow-link']),
      copyUIDGID: Boolean(p.flags.archive),
      // docker is quiet whenever stderr is not a terminal.
      quiet: Boolean(p.flags.quiet) || !isTTY(ctx.err),
    };
    if (srcContainer) await copyFromContainer(ctx, c);
    else await copyToContainer(ctx, c);
    return 0;
  },
};
