// docker cp's client-side path rules (docker/cli cp.go, go-archive copy.go).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  getRebaseName, nameRebaser, prepareArchiveCopy, preserveTrailingDotOrSeparator, resolveLocalPath, splitCpArg, splitPathDirEntry,
} from '../../../../src/cli/cp/paths';

const info = (path: string, exists: boolean, isDir: boolean, rebaseName = '') => ({ path, exists, isDir, rebaseName });

describe('cp paths', () => {
  it('splits CONTAINER:PATH as docker does', () => {
    assert.deepEqual(splitCpArg('web:/etc/hosts'), ['web', '/etc/hosts']);
    assert.deepEqual(splitCpArg('/tmp/a:b'), ['', '/tmp/a:b']);
    assert.deepEqual(splitCpArg('./a:b'), ['', './a:b']);
    assert.deepEqual(splitCpArg('file'), ['', 'file']);
    assert.deepEqual(splitCpArg('web:'), ['web', '']);
  });

  it('keeps a trailing "/" and "/." through cleaning', () => {
    assert.equal(preserveTrailingDotOrSeparator('/x/dir', 'dir/.'), '/x/dir/.');
    assert.equal(preserveTrailingDotOrSeparator('/x/dir', 'dir/'), '/x/dir/');
    assert.equal(resolveLocalPath('d/.', '/w'), '/w/d/.');
    assert.equal(resolveLocalPath('d/', '/w'), '/w/d/');
    assert.deepEqual(splitPathDirEntry('/a/b/'), ['/a', 'b']);
    assert.deepEqual(splitPathDirEntry('/a/b/.'), ['/a/b', '.']);
  });

  it('keeps the name a followed link was given', () => {
    assert.deepEqual(getRebaseName('/data/link', '/data/a'), ['/data/a', 'link']);
    assert.deepEqual(getRebaseName('/data/link/', '/data/dir'), ['/data/dir/', 'link']);
    assert.deepEqual(getRebaseName('/data/a', '/data/a'), ['/data/a', '']);
  });

  it('decides where to extract and how to rename, as PrepareArchiveCopy', () => {
    assert.deepEqual(prepareArchiveCopy(info('/s/f', true, false), info('/d', true, true)), { dstDir: '/d' });
    assert.deepEqual(prepareArchiveCopy(info('/s/f', true, false), info('/d/g', true, false)), { dstDir: '/d', rebase: ['f', 'g'] });
    assert.deepEqual(prepareArchiveCopy(info('/s/dir', true, true), info('/d/new', false, false)), { dstDir: '/d', rebase: ['dir', 'new'] });
    assert.deepEqual(prepareArchiveCopy(info('/s/dir/.', true, true), info('/d/new', false, false)), { dstDir: '/d', rebase: ['.', 'new'] });
    assert.deepEqual(prepareArchiveCopy(info('/s/l', true, false, 'l'), info('/d/x', false, false)), { dstDir: '/d', rebase: ['l', 'x'] });
    assert.throws(() => prepareArchiveCopy(info('/s/dir', true, true), info('/d/f', true, false)), /^Error: cannot copy directory$/);
    assert.throws(() => prepareArchiveCopy(info('/s/f', true, false), info('/d/no/', false, false)), /^Error: no such directory$/);
  });

  it('renames entries only at a path boundary', () => {
    const r = nameRebaser('dir', 'new');
    assert.equal(r('dir'), 'new');
    assert.equal(r('dir/'), 'new/');
    assert.equal(r('dir/a'), 'new/a');
    assert.equal(r('directory'), 'directory');
    assert.equal(nameRebaser('.', 'new')('./a'), 'new/a');
  });
});
