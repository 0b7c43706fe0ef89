// `berth build --secret` (the CLI's forms) and the daemon's header that
// carries the secrets: both ends of one encoding.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { secretsOf as cliSecrets } from '../../../../src/cli/commands/image/build';
import { secretsOf as daemonSecrets } from '../../../../src/server/routes/build';

test('build secrets: --secret forms round-trip through the header', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-secret-'));
  try {
    const file = path.join(dir, 'npmrc');
    fs.writeFileSync(file, 'token=abc\n');
    const h = cliSecrets([`id=npm,src=${file}`, 'id=tok,env=MY_TOKEN', 'id=AWS_KEY', `source=${file}`], { MY_TOKEN: 't0k', AWS_KEY: 'ak' });
    const got = daemonSecrets(h);
    assert.deepEqual(Object.fromEntries(Object.entries(got!).map(([k, v]) => [k, v.toString()])), { npm: 'token=abc\n', tok: 't0k', AWS_KEY: 'ak', npmrc: 'token=abc\n' });
    assert.equal(cliSecrets([], {}), undefined);
    assert.throws(() => cliSecrets(['id=x,env=NOPE'], {}), /the environment variable NOPE is not set/);
    assert.throws(() => cliSecrets([`id=x,src=${dir}/missing`], {}), /secret x: ENOENT/);
    assert.throws(() => cliSecrets(['id=x,type=ssh'], {}), /unsupported type ssh/);
    assert.throws(() => cliSecrets(['id=x,foo=bar'], {}), /unexpected key foo/);
    assert.throws(() => cliSecrets(['justtext'], {}), /expected key=value/);
    fs.writeFileSync(file, Buffer.alloc(20000, 'a'));
    assert.throws(() => cliSecrets([`id=big,src=${file}`], {}), /too large/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('build secrets: the daemon refuses a malformed header', () => {
  assert.equal(daemonSecrets(undefined), undefined);
  assert.throws(() => daemonSecrets('%%%'), /not base64 JSON/);
  assert.throws(() => daemonSecrets(Buffer.from('[1]').toString('base64')), /not an object/);
  assert.throws(() => daemonSecrets(Buffer.from('{"a":1}').toString('base64')), /secret "a" is not a base64 string/);
  assert.throws(() => daemonSecrets(['a', 'b']), /more than once/);
});
