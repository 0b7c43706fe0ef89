// docker's -o output files: refused destinations, and a file that appears only when complete.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AtomicFile, validateDestination } from '../../../../src/cli/output/atomic-file';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-atomic-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('output files (-o)', () => {
  it('refuses what docker refuses', () => {
    assert.throws(() => validateDestination(''), { message: 'file name is empty' });
    assert.throws(() => validateDestination('/nonexistent/x.tar'), { message: 'invalid output path: stat /nonexistent: no such file or directory' });
    assert.throws(() => validateDestination('/dev/null'), { message: 'cannot write to a character device file' });
    assert.throws(() => validateDestination(tmp), { message: 'cannot write to a directory' });
    const link = path.join(tmp, 'link.tar');
    fs.symlinkSync('/nonexistent', link);
    assert.throws(() => validateDestination(link), { message: 'cannot write to a symbolic link directly' });
    assert.doesNotThrow(() => validateDestination(path.join(tmp, 'new.tar')));
  });

  it('appears only when complete', async () => {
    const target = path.join(tmp, 'out.tar');
    fs.writeFileSync(target, 'old');
    const failing = AtomicFile.create(target, 'failed to save image');
    const broken = new Readable({
      read() {
        this.push('partial');
        this.destroy(new Error('aborted'));
      },
    });
    await assert.rejects(failing.fill(broken), /aborted/);
    assert.equal(fs.readFileSync(target, 'utf8'), 'old');
    const good = AtomicFile.create(target, 'failed to save image');
    await good.fill(Readable.from([Buffer.from('new '), Buffer.from('data')]));
    assert.equal(fs.readFileSync(target, 'utf8'), 'new data');
    assert.equal(fs.statSync(target).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith('.tmp-')), []);
    assert.throws(() => AtomicFile.create('/nonexistent/x', 'failed to export container'), { message: 'failed to export container: invalid output path: stat /nonexistent: no such file or directory' });
  });
});
