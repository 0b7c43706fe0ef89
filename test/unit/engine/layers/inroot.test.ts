import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { containerAbsPath, goFileMode, GO_MODE, isGoDir, pathStatHeader, readSmallFiles, walkUpper, type UpperEntry } from '../../../../src/engine/layers/inroot';

describe('goFileMode', () => {
  it('maps each file type to Go os.FileMode bits', () => {
    assert.equal(goFileMode(0o100644), 0o644); // regular: no type bit
    assert.equal(goFileMode(0o040755), 2 ** 31 + 0o755); // ModeDir
    assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777); // ModeSymlink
    assert.equal(goFileMode(0o060660), 2 ** 26 + 0o660); // ModeDevice
    assert.equal(goFileMode(0o020620), 2 ** 26 + 2 ** 21 + 0o620); // ModeDevice|ModeCharDevice
    assert.equal(goFileMode(0o010600), 2 ** 25 + 0o600); // ModeNamedPipe
    assert.equal(goFileMode(0o140755), 2 ** 24 + 0o755); // ModeSocket
  });

  it('maps setuid, setgid and sticky to their own high bits', () => {
    assert.equal(goFileMode(0o104755), GO_MODE.setuid + 0o755);
    assert.equal(goFileMode(0o102755), GO_MODE.setgid + 0o755);
    assert.equal(goFileMode(0o041777), GO_MODE.dir + GO_MODE.sticky + 0o777);
    // dockerd's number for /tmp (drwxrwxrwt), as the docker CLI decodes it
    assert.equal(goFileMode(0o041777), 2148532735);
  });

  it('isGoDir reads ModeDir', () => {
    assert.equal(isGoDir(goFileMode(0o040700)), true);
    assert.equal(isGoDir(goFileMode(0o104755)), false);
  });
});

describe('the path stat header', () => {
  it('is base64 of the JSON with Docker\'s field names', () => {
    const s = { name: 'bin', size: 4096, mode: 2147484141, mtime: '2026-12-03T15:36:58.330876637Z', linkTarget: '' };
    const h = pathStatHeader(s);
    assert.match(h, /^[A-Za-z0-9+/]+=*$/);
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64').toString()), s);
    assert.deepEqual(Object.keys(JSON.parse(Buffer.from(h, 'base64').toString())), ['name', 'size', 'mode', 'mtime', 'linkTarget']);
  });
});

describe('Docker\'s path rules', () => {
  it('containerAbsPath cleans into the root and keeps a trailing "/." or "/"', () => {
    assert.equal(containerAbsPath('etc/passwd'), '/etc/passwd');
    assert.equal(containerAbsPath('/../../etc/passwd'), '/etc/passwd');
    assert.equal(containerAbsPath('/a/./b//c/../d'), '/a/b/d');
    assert.equal(containerAbsPath('/etc/'), '/etc/');
    assert.equal(containerAbsPath('/etc/.'), '/etc/.');
    assert.equal(containerAbsPath('/etc/./'), '/etc/./');
    assert.equal(containerAbsPath('.'), '/.');
    assert.equal(containerAbsPath('/'), '/');
    assert.equal(containerAbsPath('..'), '/');
  });
});

describe('walkUpper', () => {
  it('walks depth first in byte order, with Go modes, and reads the opaque marker', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-upper-'));
    try {
      fs.mkdirSync(path.join(root, 'b/c'), { recursive: true });
      fs.writeFileSync(path.join(root, 'a'), 'xy');
      fs.writeFileSync(path.join(root, 'B'), '');
      fs.writeFileSync(path.join(root, 'b/c/d'), '');
      fs.symlinkSync('/', path.join(root, 'l'));
      const host = { lgetxattr: (p: string, name: string) => (p.endsWith('/b/c') && name === 'trusted.overlay.opaque' ? Buffer.from('y') : null) };
      const got: UpperEntry[] = [];
      for await (const e of walkUpper(root, host)) got.push(e);
      assert.deepEqual(got.map((e) => e.path), ['/B', '/a', '/b', '/b/c', '/b/c/d', '/l']);
      const byPath = new Map(got.map((e) => [e.path, e]));
      assert.equal(byPath.get('/a')!.size, 2);
      assert.equal(byPath.get('/b')!.dir, true);
      assert.equal(byPath.get('/b')!.opaque, false);
      assert.equal(byPath.get('/b/c')!.opaque, true);
      assert.equal(byPath.get('/l')!.mode & GO_MODE.symlink, GO_MODE.symlink);
      assert.equal(got.some((e) => e.whiteout), false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('readSmallFiles', () => {
  it('reads regular files and leaves out missing ones and directories', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cat-'));
    try {
      fs.writeFileSync(path.join(root, 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
      const got = await readSmallFiles([path.join(root, 'passwd'), path.join(root, 'nope'), root]);
      assert.deepEqual(got, { [path.join(root, 'passwd')]: 'root:x:0:0::/root:/bin/sh\n' });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
