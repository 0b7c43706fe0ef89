// docker's config.json: credentials, atomic 0600 writes, helpers.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ConfigFile,
  configDir,
  convertToHostname,
  decodeAuth,
  encodeAuth,
  encodeAuthHeader,
  marshalIndent,
} from '../../../src/cli/config';
import { authConfigKey } from '../../../src/oci/reference';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-config-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('config.json', () => {
  it('finds the directory like docker', () => {
    assert.equal(configDir({ DOCKER_CONFIG: '/x', HOME: '/h' }), '/x');
    assert.equal(configDir({ HOME: '/h' }), '/h/.docker');
    assert.equal(configDir({ DOCKER_CONFIG: '/x' }, '/flag'), '/flag');
  });

  it('encodes credentials as docker does', () => {
    assert.equal(encodeAuth('user', 'pa:ss'), 'dXNlcjpwYTpzcw==');
    assert.equal(encodeAuth('', ''), '');
    assert.deepEqual(decodeAuth('dXNlcjpwYTpzcw=='), { username: 'user', password: 'pa:ss' });
    assert.throws(() => decodeAuth(Buffer.from('nocolon').toString('base64')), /Invalid auth configuration file/);
    // X-Registry-Auth is base64url JSON with docker's field names.
    const h = encodeAuthHeader({ username: 'u', password: '??>>', serveraddress: 'r:5000' });
    assert.ok(!/[+/]/.test(h));
    assert.deepEqual(JSON.parse(Buffer.from(h.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString()), { username: 'u', password: '??>>', serveraddress: 'r:5000' });
    assert.equal(encodeAuthHeader({}), 'e30=');
  });

  it('maps registries to keys and URLs to hostnames', () => {
    assert.equal(authConfigKey('docker.io'), 'https://index.docker.io/v1/');
    assert.equal(authConfigKey('localhost:5000'), 'localhost:5000');
    assert.equal(convertToHostname('https://registry.example.com:5000/v2/'), 'registry.example.com:5000');
    assert.equal(convertToHostname('http://localhost'), 'localhost');
    assert.equal(convertToHostname('localhost:5000/path'), 'localhost:5000');
  });

  it('writes atomically with mode 0600, keeps other keys, and reads entries back', async () => {
    const dir = path.join(tmp, 'c1');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ credsStore: '', psFormat: 'table {{.ID}}', auths: { 'https://old.example.com/v1/': { auth: encodeAuth('o', 'p') } }, proxies: { default: { httpProxy: 'x' } } }), { mode: 0o644 });
    const cfg = ConfigFile.load(dir);
    assert.equal(await cfg.storeAuth('localhost:5000', { username: 'u', password: 'p<&>' }), true);
    assert.equal(await cfg.storeAuth('localhost:5000', { username: 'u', password: 'p<&>' }), false, 'unchanged credentials are not written again');
    const text = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
    assert.equal(text, [
      '{',
      '\t"auths": {',
      '\t\t"https://old.example.com/v1/": {',
      '\t\t\t"auth": "bzpw"',
      '\t\t},',
      '\t\t"localhost:5000": {',
      '\t\t\t"auth": "dTpwPCY+"',
      '\t\t}',
      '\t},',
      '\t"credsStore": "",',
      '\t"psFormat": "table {{.ID}}",',
      '\t"proxies": {',
      '\t\t"default": {',
      '\t\t\t"httpProxy": "x"',
      '\t\t}',
      '\t}',
      '}',
    ].join('\n'));
    assert.equal(fs.statSync(path.join(dir, 'config.json')).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(dir), ['config.json']);

    const again = ConfigFile.load(dir);
    assert.deepEqual(await again.getAuth('localhost:5000'), { username: 'u', password: 'p<&>', serveraddress: 'localhost:5000' });
    // A key saved as a URL is found by its hostname (docker's legacy lookup).
    assert.deepEqual(await again.getAuth('old.example.com'), { username: 'o', password: 'p', serveraddress: 'https://old.example.com/v1/' });
    assert.deepEqual(await again.getAuth('nothing:1'), {});
    assert.equal(await again.eraseAuth('localhost:5000'), true);
    assert.equal(await again.eraseAuth('localhost:5000'), false);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).auths['localhost:5000'], undefined);
  });

  it('creates the directory and file, and writes through a symlink', async () => {
    const dir = path.join(tmp, 'new', 'deeper');
    const cfg = ConfigFile.load(dir);
    await cfg.storeAuth('r:1', { username: 'a', password: 'b', identitytoken: 't' });
    assert.equal(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), '{\n\t"auths": {\n\t\t"r:1": {\n\t\t\t"auth": "YTpi",\n\t\t\t"identitytoken": "t"\n\t\t}\n\t}\n}');
    assert.equal(fs.statSync(path.join(tmp, 'new', 'deeper')).mode & 0o777, 0o700);

    const real = path.join(tmp, 'real.json');
    fs.writeFileSync(real, '{}');
    const ldir = path.join(tmp, 'linked');
    fs.mkdirSync(ldir);
    fs.symlinkSync(real, path.join(ldir, 'config.json'));
    await ConfigFile.load(ldir).storeAuth('r:2', { username: 'x', password: 'y' });
    assert.ok(fs.lstatSync(path.join(ldir, 'config.json')).isSymbolicLink());
    assert.match(fs.readFileSync(real, 'utf8'), /"r:2"/);
  });

  it('reports a broken file', () => {
    const dir = path.join(tmp, 'broken');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), '{nope');
    assert.throws(() => ConfigFile.load(dir), /^Error: loading config file: .*config\.json: /);
  });

  it('uses credential helpers (credsStore, credHelpers) like docker', async () => {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    const store = path.join(tmp, 'helper-store.json');
    fs.writeFileSync(store, '{}');
    // A docker-credential-* helper keeping secrets in a JSON file.
    fs.writeFileSync(path.join(bin, 'docker-credential-fake'), `#!/usr/bin/env node
const fs = require('fs');
const db = JSON.parse(fs.readFileSync(${JSON.stringify(store)}, 'utf8'));
const input = fs.readFileSync(0, 'utf8').trim();
const action = process.argv[2];
if (action === 'get') {
  if (!db[input]) { process.stdout.write('credentials not found in native keychain'); process.exit(1); }
  process.stdout.write(JSON.stringify({ ServerURL: input, ...db[input] }));
} else if (action === 'store') {
  const c = JSON.parse(input); db[c.ServerURL] = { Username: c.Username, Secret: c.Secret };
  fs.writeFileSync(${JSON.stringify(store)}, JSON.stringify(db));
} else if (action === 'erase') { delete db[input]; fs.writeFileSync(${JSON.stringify(store)}, JSON.stringify(db)); }
`, { mode: 0o755 });
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath}`;
    try {
      const dir = path.join(tmp, 'helpers');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: {}, credHelpers: { 'h:1': 'fake' } }));
      const cfg = ConfigFile.load(dir);
      await cfg.storeAuth('h:1', { username: 'u', password: 'secret' });
      assert.deepEqual(JSON.parse(fs.readFileSync(store, 'utf8')), { 'h:1': { Username: 'u', Secret: 'secret' } });
      // The file keeps an entry without the secret, as docker's native store does.
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).auths, { 'h:1': {} });
      assert.deepEqual(await cfg.getAuth('h:1'), { serveraddress: 'h:1', username: 'u', password: 'secret' });
      await cfg.storeAuth('h:1', { username: 'u', identitytoken: 'tok' });
      assert.deepEqual(await cfg.getAuth('h:1'), { serveraddress: 'h:1', identitytoken: 'tok' });
      await cfg.eraseAuth('h:1');
      assert.deepEqual(await cfg.getAuth('h:1'), { serveraddress: 'h:1' });
      // Other registries still use the file.
      await cfg.storeAuth('other:1', { username: 'a', password: 'b' });
      assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).auths['other:1'].auth, 'YTpi');
    } finally {
      process.env.PATH = oldPath;
    }
  });

  it('indents like json.MarshalIndent and escapes like Go', () => {
    assert.equal(marshalIndent({ a: [], b: {}, c: [1, 'x<'], d: null }), '{\n\t"a": [],\n\t"b": {},\n\t"c": [\n\t\t1,\n\t\t"x\\u003c"\n\t],\n\t"d": null\n}');
  });
});
