// berth base debian: the mmdebstrap command line and its tar stream.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { debianTar, mmdebstrapArgs } from '../../../../src/cli/base/debian';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-debian-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('berth base debian', () => {
  it('runs mmdebstrap to write a tar to stdout', () => {
    assert.deepEqual(mmdebstrapArgs({ suite: 'bookworm', variant: 'minbase', stderr: process.stderr }), [
      '--variant=minbase',
      '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin',
      '--format=tar',
      'bookworm',
      '-',
    ]);
    assert.deepEqual(mmdebstrapArgs({ suite: 'trixie', variant: 'apt', arch: 'arm64', include: ['ca-certificates', 'curl'], mirror: 'http://m/debian', stderr: process.stderr }).filter((a) => !a.startsWith('--customize')), [
      '--variant=apt', '--architectures=arm64', '--include=ca-certificates,curl', '--format=tar', 'trixie', '-', 'http://m/debian',
    ]);
  });

  it('ends the tar only when mmdebstrap succeeds', async () => {
    const fake = path.join(tmp, 'fake-mmdebstrap');
    fs.writeFileSync(fake, '#!/bin/sh\nprintf "TARDATA"\necho "I: progress" >&2\n[ "$4" = "bookworm" ] || exit 3\n', { mode: 0o755 });
    const errs: string[] = [];
    const stderr = new Writable({ write(c: Buffer, _e, cb) { errs.push(c.toString()); cb(); } });
    const good = debianTar({ suite: 'bookworm', variant: 'minbase', stderr, program: fake });
    await good.started;
    const chunks: Buffer[] = [];
    for await (const c of good.tar) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'TARDATA');
    assert.match(errs.join(''), /I: progress/);

    const bad = debianTar({ suite: 'sid', variant: 'minbase', stderr, program: fake });
    await bad.started;
    await assert.rejects((async () => {
      for await (const _ of bad.tar) { /* drain */ }
    })(), /failed \(exit status 3\)/);

    const missing = debianTar({ suite: 'bookworm', variant: 'minbase', stderr, program: path.join(tmp, 'no-such-program') });
    await assert.rejects(missing.started, /is not installed: install it with `apt-get install mmdebstrap`/);
  });
});
