// cp's local tar side: what packResource names, and an extraction that
// never writes outside its directory or through a link.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as tar from 'tar-stream';
import { extractTo, packResource } from '../../../../src/cli/cp/archive';

async function names(src: Readable): Promise<string[]> {
  const out: string[] = [];
  const ex = tar.extract();
  src.pipe(ex);
  for await (const e of ex) {
    out.push(`${e.header.name}${e.header.type === 'symlink' ? ` -> ${e.header.linkname}` : ''}`);
    e.resume();
  }
  return out;
}

function tarOf(entries: { name: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string; body?: string }[]): Readable {
  const p = tar.pack();
  for (const e of entries) p.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.type === 'directory' ? 0o755 : 0o644 }, e.body ?? '');
  p.finalize();
  return Readable.from(p as AsyncIterable<Buffer>, { objectMode: false });
}

describe('cp archives', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cp-'));
    fs.mkdirSync(path.join(tmp, 'src', 'dir', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'src', 'dir', 'a'), 'a');
    fs.writeFileSync(path.join(tmp, 'src', 'dir', 'sub', 'b'), 'b');
    fs.symlinkSync('a', path.join(tmp, 'src', 'dir', 'l'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('names entries as docker does: "dir/...", "./..." for dir/., renamed', async () => {
    const dir = path.join(tmp, 'src', 'dir');
    assert.deepEqual(await names(packResource(dir, '')), ['dir/', 'dir/a', 'dir/l -> a', 'dir/sub/', 'dir/sub/b']);
    assert.deepEqual(await names(packResource(`${dir}/.`, '')), ['./', './a', './l -> a', './sub/', './sub/b']);
    assert.deepEqual(await names(packResource(dir, 'new')), ['new/', 'new/a', 'new/l -> a', 'new/sub/', 'new/sub/b']);
    assert.deepEqual(await names(packResource(path.join(dir, 'a'), '')), ['a']);
  });

  it('extracts with renames, keeping modes and contents', async () => {
    const out = path.join(tmp, 'out1');
    fs.mkdirSync(out);
    await extractTo(packResource(path.join(tmp, 'src', 'dir'), ''), out, [['dir', 'copy']]);
    assert.equal(fs.readFileSync(path.join(out, 'copy', 'sub', 'b'), 'utf8'), 'b');
    assert.equal(fs.readlinkSync(path.join(out, 'copy', 'l')), 'a');
  });

  it('refuses entries that leave the directory or go through a link', async () => {
    const out = path.join(tmp, 'out2');
    fs.mkdirSync(out);
    await assert.rejects(extractTo(tarOf([{ name: '../escape', body: 'x' }]), out), /invalid path/);
    await assert.rejects(extractTo(tarOf([{ name: 'up', type: 'symlink', linkname: '../..' }]), out), /invalid symlink/);
    await assert.rejects(
      extractTo(tarOf([{ name: 'etc', type: 'symlink', linkname: '/etc' }, { name: 'etc/berth-test-escape', body: 'x' }]), out),
      /goes through the symlink/,
    );
    assert.equal(fs.existsSync('/etc/berth-test-escape'), false);
    assert.equal(fs.existsSync(path.join(tmp, 'escape')), false);
  });

  it('will not put a file over a directory, or a directory over a file', async () => {
    const out = path.join(tmp, 'out3');
    fs.mkdirSync(path.join(out, 'd'), { recursive: true });
    fs.writeFileSync(path.join(out, 'f'), '');
    await assert.rejects(extractTo(tarOf([{ name: 'd', body: 'x' }]), out), /cannot overwrite directory/);
    await assert.rejects(extractTo(tarOf([{ name: 'f', type: 'directory' }]), out), /cannot overwrite non-directory/);
  });
});
