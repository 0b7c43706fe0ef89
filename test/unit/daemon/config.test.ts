import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError, DEFAULTS, loadConfig, parseArgs, usage } from '../../../src/daemon/config';

let dir: string;
let n = 0;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-config-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

// Writes a daemon.json and returns the flags that point at it.
function configFile(content: unknown): string[] {
  const f = path.join(dir, `daemon-${n++}.json`);
  fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return ['--config-file', f];
}
const empty = () => configFile({});

const isConfigError = (re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ConfigError, String(err));
  assert.match(err.message, re);
  return true;
};

// ---- parseArgs ----

test('parseArgs: long flags with separate values and with "="', () => {
  const { flags, action } = parseArgs(['--data-root', '/d', '--exec-root=/e', '--default-runtime', 'crun', '--config-file=/c.json', '--log-level=warn', '--pidfile', '/p']);
  assert.equal(action, undefined);
  assert.deepEqual(flags, { 'data-root': '/d', 'exec-root': '/e', 'default-runtime': 'crun', 'config-file': '/c.json', 'log-level': 'warn', pidfile: '/p' });
});

test('parseArgs: short flags, attached or separate', () => {
  const { flags } = parseArgs(['-H', 'unix:///a.sock', '-Hunix:///b.sock', '-H=unix:///c.sock', '-D', '-l', 'error', '-p/run/x.pid']);
  assert.deepEqual(flags, { host: ['unix:///a.sock', 'unix:///b.sock', 'unix:///c.sock'], debug: true, 'log-level': 'error', pidfile: '/run/x.pid' });
});

test('parseArgs: -H/--host and --add-runtime repeat; other flags keep the last value', () => {
  const { flags } = parseArgs(['--host', 'unix:///1', '-H', 'unix:///2', '--add-runtime', 'crun=/usr/bin/crun', '--add-runtime=kata=/opt/kata=x', '--data-root', '/a', '--data-root', '/b']);
  assert.deepEqual(flags.host, ['unix:///1', 'unix:///2']);
  assert.deepEqual(flags['add-runtime'], ['crun=/usr/bin/crun', 'kata=/opt/kata=x']);
  assert.equal(flags['data-root'], '/b');
});

test('parseArgs: boolean flags take no separate value; "=false" turns them off', () => {
  assert.deepEqual(parseArgs(['--debug', '--data-root', '/d']).flags, { debug: true, 'data-root': '/d' });
  assert.equal(parseArgs(['--debug=false']).flags.debug, false);
  assert.equal(parseArgs(['--debug=true']).flags.debug, true);
});

test('parseArgs: help and version actions', () => {
  assert.equal(parseArgs(['-h']).action, 'help');
  assert.equal(parseArgs(['--help']).action, 'help');
  assert.equal(parseArgs(['-v']).action, 'version');
  assert.equal(parseArgs(['--version']).action, 'version');
  assert.equal(parseArgs(['--version', '--help']).action, 'help');
  assert.match(usage(), /^Usage: berthd \[OPTIONS\]/);
  assert.ok(usage().includes(DEFAULTS.host));
});

test('parseArgs: unknown flags, stray arguments and missing values are ConfigErrors', () => {
  assert.throws(() => parseArgs(['--nope']), isConfigError(/^unknown flag: --nope$/));
  assert.throws(() => parseArgs(['--nope=1']), isConfigError(/unknown flag: --nope=1/));
  assert.throws(() => parseArgs(['-x']), isConfigError(/unknown flag: -x/));
  assert.throws(() => parseArgs(['--']), isConfigError(/unknown flag/));
  assert.throws(() => parseArgs(['serve']), isConfigError(/^unexpected argument: serve$/));
  assert.throws(() => parseArgs(['-']), isConfigError(/unexpected argument/));
  assert.throws(() => parseArgs(['--data-root']), isConfigError(/^flag needs an argument: --data-root$/));
  assert.throws(() => parseArgs(['-H']), isConfigError(/flag needs an argument: -H/));
});

test('parseArgs: nothing gives no flags', () => {
  assert.deepEqual(parseArgs([]), { flags: {} });
});

// ---- loadConfig ----

test('loadConfig: defaults, with runc and conmon found on PATH', () => {
  const c = loadConfig(empty());
  assert.equal(c.dataRoot, DEFAULTS.dataRoot);
  assert.equal(c.execRoot, DEFAULTS.execRoot);
  assert.deepEqual(c.hosts, [DEFAULTS.host]);
  assert.equal(c.pidfile, DEFAULTS.pidfile);
  assert.equal(c.defaultRuntime, 'runc');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.debug, false);
  assert.equal(path.basename(c.runtimes.runc), 'runc');
  fs.accessSync(c.runtimes.runc, fs.constants.X_OK);
  assert.equal(path.basename(c.conmonPath), 'conmon');
  fs.accessSync(c.conmonPath, fs.constants.X_OK);
  assert.match(c.configFile, /daemon-\d+\.json$/);
});

test('loadConfig: values from daemon.json', () => {
  const c = loadConfig(configFile({
    'data-root': '/srv/berth',
    'exec-root': '/run/b2',
    hosts: ['unix:///run/b2/api.sock'],
    'log-level': 'warn',
    pidfile: '/run/b2/pid',
    runtimes: { myrt: { path: '/opt/myrt/bin/myrt' } },
    'default-runtime': 'myrt',
  }));
  assert.equal(c.dataRoot, '/srv/berth');
  assert.equal(c.execRoot, '/run/b2');
  assert.deepEqual(c.hosts, ['unix:///run/b2/api.sock']);
  assert.equal(c.logLevel, 'warn');
  assert.equal(c.pidfile, '/run/b2/pid');
  assert.equal(c.defaultRuntime, 'myrt');
  assert.equal(c.runtimes.myrt, '/opt/myrt/bin/myrt');
  assert.ok(c.runtimes.runc, 'runc from PATH is still there');
});

test('loadConfig: flags win over daemon.json', () => {
  const file = configFile({ 'data-root': '/from/file', 'exec-root': '/exec/file', hosts: ['unix:///file.sock'], 'log-level': 'error', 'default-runtime': 'nope' });
  const c = loadConfig([...file, '--data-root', '/from/flag', '-H', 'unix:///flag.sock', '-l', 'debug', '--default-runtime', 'runc']);
  assert.equal(c.dataRoot, '/from/flag');
  assert.equal(c.execRoot, '/exec/file');
  assert.deepEqual(c.hosts, ['unix:///flag.sock']);
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.debug, true);
  assert.equal(c.defaultRuntime, 'runc');
});

test('loadConfig: --add-runtime registers runtimes and can become the default', () => {
  const c = loadConfig([...empty(), '--add-runtime', 'fast=/opt/fast', '--add-runtime=runc=/custom/runc', '--default-runtime', 'fast']);
  assert.equal(c.runtimes.fast, '/opt/fast');
  assert.equal(c.runtimes.runc, '/custom/runc');
  assert.equal(c.defaultRuntime, 'fast');
  assert.throws(() => loadConfig([...empty(), '--add-runtime', 'noequals']), isConfigError(/invalid --add-runtime "noequals": expected name=path/));
  assert.throws(() => loadConfig([...empty(), '--add-runtime', '=/x']), isConfigError(/invalid --add-runtime/));
});

test('loadConfig: an unknown default runtime is refused', () => {
  assert.throws(() => loadConfig([...empty(), '--default-runtime', 'kata']), isConfigError(/default runtime "kata" not found \(known: .*runc/));
  assert.throws(() => loadConfig(configFile({ 'default-runtime': 'kata' })), isConfigError(/default runtime "kata" not found/));
});

test('loadConfig: tcp:// (and any non-unix) hosts are refused', () => {
  assert.throws(() => loadConfig([...empty(), '-H', 'tcp://0.0.0.0:2375']), isConfigError(/unsupported host "tcp:\/\/0\.0\.0\.0:2375": only unix:\/\/ sockets/));
  assert.throws(() => loadConfig([...empty(), '-H', 'unix:///ok.sock', '-H', 'tcp://127.0.0.1:2376']), isConfigError(/unsupported host "tcp:/));
  assert.throws(() => loadConfig(configFile({ hosts: ['tcp://0.0.0.0:2375'] })), isConfigError(/unsupported host/));
  assert.throws(() => loadConfig([...empty(), '-H', 'fd://']), isConfigError(/unsupported host "fd:\/\/"/));
  assert.throws(() => loadConfig([...empty(), '-H', '/run/x.sock']), isConfigError(/unsupported host/));
});

test('loadConfig: debug from the flag or the file sets the debug log level', () => {
  const f = loadConfig([...empty(), '-D']);
  assert.equal(f.debug, true);
  assert.equal(f.logLevel, 'debug');
  const c = loadConfig(configFile({ debug: true }));
  assert.equal(c.debug, true);
  assert.equal(c.logLevel, 'debug');
  // An explicit level still wins; debug stays on.
  const both = loadConfig([...empty(), '-D', '--log-level', 'warn']);
  assert.equal(both.logLevel, 'warn');
  assert.equal(both.debug, true);
});

test('loadConfig: an invalid log level is refused', () => {
  assert.throws(() => loadConfig([...empty(), '--log-level', 'chatty']), isConfigError(/^invalid log level: chatty$/));
  assert.throws(() => loadConfig(configFile({ 'log-level': 'trace' })), isConfigError(/invalid log level: trace/));
});

test('loadConfig: relative paths are made absolute', () => {
  const c = loadConfig([...empty(), '--data-root', 'rel/data', '--exec-root', './exec', '-p', 'x.pid']);
  assert.equal(c.dataRoot, path.resolve('rel/data'));
  assert.equal(c.execRoot, path.resolve('exec'));
  assert.equal(c.pidfile, path.resolve('x.pid'));
});

test('loadConfig: a missing --config-file is an error', () => {
  const missing = path.join(dir, 'missing.json');
  assert.throws(() => loadConfig(['--config-file', missing]), isConfigError(new RegExp(`open ${missing}: no such file or directory`)));
});

test('loadConfig: malformed daemon.json is an error naming the file', () => {
  const flags = configFile('{"data-root": ');
  assert.throws(() => loadConfig(flags), isConfigError(new RegExp(`unable to configure the daemon with file ${flags[1]}`)));
});

test('loadConfig: a daemon.json that is not an object is a ConfigError', () => {
  assert.throws(() => loadConfig(configFile('null')), ConfigError);
  assert.throws(() => loadConfig(configFile('[]')), ConfigError);
});

test('loadConfig: the pidfile defaults to <exec-root>/berthd.pid, from a flag or daemon.json', () => {
  assert.equal(loadConfig([...empty(), '--exec-root', '/run/other']).pidfile, '/run/other/berthd.pid');
  assert.equal(loadConfig(configFile({ 'exec-root': '/run/b3' })).pidfile, '/run/b3/berthd.pid');
  assert.equal(loadConfig([...empty(), '--exec-root', '/run/other', '--pidfile', '/p.pid']).pidfile, '/p.pid');
  assert.match(usage(), /--pidfile string .*\(default "<exec-root>\/berthd\.pid"\)/);
});

test('loadConfig: native.cgroupdriver from --exec-opt or daemon.json exec-opts', () => {
  assert.equal(loadConfig(empty()).cgroupDriver, undefined);
  assert.equal(loadConfig([...empty(), '--exec-opt', 'native.cgroupdriver=systemd']).cgroupDriver, 'systemd');
  assert.equal(loadConfig(configFile({ 'exec-opts': ['native.cgroupdriver=cgroupfs'] })).cgroupDriver, 'cgroupfs');
  assert.throws(() => loadConfig([...empty(), '--exec-opt', 'native.cgroupdriver=none']), isConfigError(/native.cgroupdriver option none not supported/));
  assert.throws(() => loadConfig([...empty(), '--exec-opt', 'isolation=hyperv']), isConfigError(/unknown exec-opt "isolation=hyperv"/));
});

test('loadConfig: userns-remap from daemon.json or --userns-remap (the flag wins), checked for its form', () => {
  assert.equal(loadConfig(empty()).usernsRemap, undefined);
  assert.equal(loadConfig(configFile({ 'userns-remap': '' })).usernsRemap, undefined);
  assert.equal(loadConfig(configFile({ 'userns-remap': 'default' })).usernsRemap, 'default');
  assert.equal(loadConfig(configFile({ 'userns-remap': 'alice:staff' })).usernsRemap, 'alice:staff');
  assert.equal(loadConfig([...configFile({ 'userns-remap': 'alice' }), '--userns-remap', '1000:1000']).usernsRemap, '1000:1000');
  assert.equal(loadConfig([...empty(), '--userns-remap=bob']).usernsRemap, 'bob');
  assert.throws(() => loadConfig(configFile({ 'userns-remap': 'a:b:c' })), isConfigError(/invalid userns-remap "a:b:c": expected user\[:group\] or default/));
  assert.throws(() => loadConfig(configFile({ 'userns-remap': ':g' })), isConfigError(/invalid userns-remap/));
  assert.throws(() => loadConfig(configFile({ 'userns-remap': 'u:' })), isConfigError(/invalid userns-remap/));
  assert.throws(() => loadConfig(configFile({ 'userns-remap': 5 })), isConfigError(/invalid userns-remap 5/));
});

test('exec-helper: berth-exec by default, runc exec with false, anything else refused', () => {
  assert.equal(loadConfig(empty()).execHelper, true);
  assert.equal(loadConfig(configFile({ 'exec-helper': false })).execHelper, false);
  assert.equal(loadConfig(configFile({ 'exec-helper': true })).execHelper, true);
  assert.throws(() => loadConfig(configFile({ 'exec-helper': 'no' })), isConfigError(/invalid exec-helper "no": expected true or false/));
});

test('loadConfig: log-driver and log-opts, with berth\'s cap on json-file when none are given', () => {
  const d = loadConfig(empty());
  assert.equal(d.logDriver, 'json-file');
  assert.deepEqual(d.logOpts, { 'max-size': '10m', 'max-file': '3' });
  const f = loadConfig(configFile({ 'log-driver': 'json-file', 'log-opts': { 'max-size': '1m' } }));
  assert.deepEqual([f.logDriver, f.logOpts], ['json-file', { 'max-size': '1m' }]);
  const l = loadConfig([...empty(), '--log-driver', 'local', '--log-opt', 'max-file=2']);
  assert.deepEqual([l.logDriver, l.logOpts], ['local', { 'max-file': '2' }]);
  assert.deepEqual(loadConfig([...empty(), '--log-driver', 'local']).logOpts, {});
  assert.throws(() => loadConfig([...empty(), '--log-driver', 'bogus']), isConfigError(/failed to set log opts: logger: no log driver named 'bogus' is registered/));
  assert.throws(() => loadConfig([...empty(), '--log-opt', 'nope=1']), isConfigError(/unknown log opt 'nope' for json-file log driver/));
  assert.throws(() => loadConfig([...empty(), '--log-opt', 'novalue']), isConfigError(/invalid --log-opt "novalue": expected key=value/));
  assert.throws(() => loadConfig(configFile({ 'log-opts': { 'max-size': 5 } })), isConfigError(/log-opts must be an object of strings/));
});

test('init: off by default, on from --init or daemon.json; init-path names the binary', () => {
  const bin = path.join(dir, 'my-init');
  fs.writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
  const plain = loadConfig(empty());
  assert.equal(plain.init, false);
  assert.ok(plain.initBinary === 'docker-init' || plain.initBinary === 'tini-static');
  assert.equal(loadConfig([...empty(), '--init']).init, true);
  const fromFile = loadConfig(configFile({ init: true, 'init-path': bin }));
  assert.equal(fromFile.init, true);
  assert.equal(fromFile.initPath, bin);
  assert.equal(fromFile.initBinary, bin);
  // The flag wins over the file.
  assert.equal(loadConfig([...configFile({ init: true }), '--init=false']).init, false);
  assert.equal(loadConfig([...empty(), '--init-path', bin]).initPath, bin);
  assert.throws(() => loadConfig(configFile({ init: 'yes' })), isConfigError(/invalid init "yes"/));
});

test('loadConfig: daemon.json keys nothing reads are refused by name, as dockerd', () => {
  assert.throws(() => loadConfig(configFile({ 'registry-mirror': ['https://m/'], debug: true, 'live-restor': true })), isConfigError(/the following directives don't match any configuration option: registry-mirror, live-restor$/));
});

test('loadConfig: registry mirrors from daemon.json and --registry-mirror, normalized and checked', () => {
  const c = loadConfig([...configFile({ 'registry-mirrors': ['http://127.0.0.1:5001', 'https://mirror.example/'] }), '--registry-mirror', 'http://127.0.0.1:5002/']);
  assert.deepEqual(c.registryMirrors, ['http://127.0.0.1:5001/', 'https://mirror.example/', 'http://127.0.0.1:5002/']);
  assert.deepEqual(loadConfig(empty()).registryMirrors, []);
  assert.throws(() => loadConfig([...empty(), '--registry-mirror', 'mirror.example']), isConfigError(/invalid mirror/));
  assert.throws(() => loadConfig([...empty(), '--registry-mirror', 'ftp://mirror.example']), isConfigError(/invalid mirror: unsupported scheme "ftp"/));
  assert.throws(() => loadConfig([...empty(), '--registry-mirror', 'https://m.example/v2/']), isConfigError(/path, query, or fragment/));
  assert.throws(() => loadConfig([...empty(), '--registry-mirror', 'https://u:p@m.example/']), isConfigError(/username\/password/));
  assert.throws(() => loadConfig(configFile({ 'registry-mirrors': 'https://m/' })), isConfigError(/registry-mirrors must be a list of strings/));
});

test('loadConfig: insecure registries and allow-nondistributable-artifacts take host:port or CIDRs', () => {
  const c = loadConfig([...configFile({ 'insecure-registries': ['10.0.0.0/8', 'reg.local:5000'], 'allow-nondistributable-artifacts': ['127.0.0.0/8'] }), '--insecure-registry', 'other:80', '--allow-nondistributable-artifacts', 'r.example:5000']);
  assert.deepEqual(c.insecureRegistries, ['10.0.0.0/8', 'reg.local:5000', 'other:80']);
  assert.deepEqual(c.allowNondistributable, ['127.0.0.0/8', 'r.example:5000']);
  assert.throws(() => loadConfig([...empty(), '--insecure-registry', '10.0.0.0/33']), isConfigError(/invalid CIDR/));
  assert.throws(() => loadConfig([...empty(), '--insecure-registry', 'http://r:5000']), isConfigError(/without a scheme/));
});

test('loadConfig: max-concurrent-downloads/-uploads default to dockerd\'s 3 and 5 and must be positive', () => {
  const d = loadConfig(empty());
  assert.equal(d.maxConcurrentDownloads, 3);
  assert.equal(d.maxConcurrentUploads, 5);
  const c = loadConfig([...configFile({ 'max-concurrent-downloads': 1, 'max-concurrent-uploads': 2 }), '--max-concurrent-uploads', '7']);
  assert.equal(c.maxConcurrentDownloads, 1);
  assert.equal(c.maxConcurrentUploads, 7);
  assert.throws(() => loadConfig(configFile({ 'max-concurrent-downloads': 0 })), isConfigError(/invalid max concurrent downloads: 0/));
  assert.throws(() => loadConfig([...empty(), '--max-concurrent-uploads', 'x']), isConfigError(/invalid max concurrent uploads: x/));
});
