import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { readFileInRoot, readFileInRootSync, resolveInRoot, resolveInRootSync } from '../../../src/util/rootfs';

// A fake container root:
//   etc/passwd            file
//   abs   -> /etc         absolute link (means <root>/etc)
//   up    -> ../../../../../etc   relative link climbing past the root
//   dir/rel -> ../abs     link to a link
//   dir/dot -> .          link to its own dir
//   loop1 -> loop2, loop2 -> loop1, self -> self
//   deep/chain -> /abs/../etc/./passwd
let root: string;
let outside: string;
before(() => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-rootfs-'));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(root, 'dir'));
  fs.mkdirSync(path.join(root, 'deep'));
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  fs.writeFileSync(path.join(outside, 'secret'), 'host secret\n');
  fs.symlinkSync('/etc', path.join(root, 'abs'));
  fs.symlinkSync('../../../../../etc', path.join(root, 'up'));
  fs.symlinkSync('../abs', path.join(root, 'dir', 'rel'));
  fs.symlinkSync('.', path.join(root, 'dir', 'dot'));
  fs.symlinkSync('loop2', path.join(root, 'loop1'));
  fs.symlinkSync('loop1', path.join(root, 'loop2'));
  fs.symlinkSync('self', path.join(root, 'self'));
  fs.symlinkSync('/abs/../etc/./passwd', path.join(root, 'deep', 'chain'));
  // A link that would reach the host's "outside" dir if followed by the kernel.
  fs.symlinkSync(path.relative(root, outside), path.join(root, 'escape'));
});
after(() => {
  fs.rmSync(path.dirname(root), { recursive: true, force: true });
});

const etcPasswd = () => path.join(root, 'etc', 'passwd');

test('plain paths resolve under the root', async () => {
  assert.equal(await resolveInRoot(root, '/etc/passwd'), etcPasswd());
  assert.equal(await resolveInRoot(root, 'etc/passwd'), etcPasswd());
  assert.equal(await resolveInRoot(root, '/'), root);
  assert.equal(await resolveInRoot(root, '/./etc//./passwd'), etcPasswd());
});

test('".." cannot climb above the root', async () => {
  assert.equal(await resolveInRoot(root, '/../../etc/passwd'), etcPasswd());
  assert.equal(await resolveInRoot(root, '/etc/../../../etc/passwd'), etcPasswd());
});

test('absolute symlinks are taken relative to the root', async () => {
  assert.equal(await resolveInRoot(root, '/abs/passwd'), etcPasswd());
  assert.equal(await resolveInRoot(root, '/abs'), path.join(root, 'etc'));
});

test('relative symlinks with ".." stay inside the root', async () => {
  assert.equal(await resolveInRoot(root, '/up/passwd'), etcPasswd());
  // escape -> ../outside: ".." stops at the root, so this is <root>/outside.
  assert.equal(await resolveInRoot(root, '/escape/secret'), path.join(root, 'outside', 'secret'));
});

test('links to links, "." links and links with ".." in their target', async () => {
  assert.equal(await resolveInRoot(root, '/dir/rel/passwd'), etcPasswd());
  assert.equal(await resolveInRoot(root, '/dir/dot/dot/rel/passwd'), etcPasswd());
  assert.equal(await resolveInRoot(root, '/deep/chain'), etcPasswd());
});

test('missing components are kept as they are', async () => {
  assert.equal(await resolveInRoot(root, '/nope/a/b'), path.join(root, 'nope', 'a', 'b'));
  assert.equal(await resolveInRoot(root, '/abs/newfile'), path.join(root, 'etc', 'newfile'));
  assert.equal(await resolveInRoot(root, '/nope/../../..'), root);
});

test('".." after a missing component does not skip symlink resolution', async () => {
  const p = await resolveInRoot(root, '/missing/../escape/secret');
  assert.equal(p, path.join(root, 'outside', 'secret'));
  // What the bug allows: reading a host file through the container root.
  assert.equal(await readFileInRoot(root, '/missing/../escape/secret'), undefined);
});

test('symlink loops fail with ELOOP', async () => {
  await assert.rejects(resolveInRoot(root, '/loop1'), { code: 'ELOOP' });
  await assert.rejects(resolveInRoot(root, '/self/x'), { code: 'ELOOP' });
});

test('readFileInRoot reads through links and gives undefined for missing files', async () => {
  assert.equal(await readFileInRoot(root, '/abs/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  assert.equal(await readFileInRoot(root, '/up/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  assert.equal(await readFileInRoot(root, '/etc/group'), undefined);
  assert.equal(await readFileInRoot(root, '/loop1'), undefined);
  assert.equal(await readFileInRoot(root, '/escape/secret'), undefined);
});

test('the synchronous versions resolve and read exactly as the async ones', async () => {
  const paths = ['/etc/passwd', '/abs/passwd', '/up/passwd', '/dir/rel/passwd', '/dir/dot/dot/rel/passwd', '/deep/chain', '/nope/../etc/passwd', '/escape/secret', '/etc/group', '/../../etc'];
  for (const p of paths) {
    assert.equal(resolveInRootSync(root, p), await resolveInRoot(root, p), p);
    assert.equal(readFileInRootSync(root, p), await readFileInRoot(root, p), p);
  }
  assert.throws(() => resolveInRootSync(root, '/loop1'), { code: 'ELOOP' });
  assert.throws(() => resolveInRootSync(root, '/self/x'), { code: 'ELOOP' });
  assert.equal(readFileInRootSync(root, '/loop1'), undefined);
});
