// The default seccomp profile under real runc: a hand-made OCI bundle with a
// busybox rootfs, the profile from defaultSeccompProfile in linux.seccomp,
// and Docker's default capabilities. Ordinary commands must work; calls the
// profile blocks must fail with EPERM even where the capabilities would
// allow them. Needs root, runc and /bin/busybox (busybox-static).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultSeccompProfile, type OciSeccomp } from '../../src/engine/runtime/seccomp';

const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return undefined;
}

const RUNC = which('runc');
const BUSYBOX = '/bin/busybox';
// In CI (root, packages installed by scripts/setup.sh) nothing may skip.
const skip = process.env.CI ? false
  : process.getuid?.() !== 0 ? 'needs root'
  : !RUNC ? 'needs runc'
  : !fs.existsSync(BUSYBOX) ? 'needs /bin/busybox (busybox-static)'
  : false;

interface Result { code: number | null; stdout: string; stderr: string }

describe('default seccomp profile under runc', { skip }, () => {
  let tmp = '';
  let bundle = '';
  let state = '';
  let baseConfig: any;
  let n = 0;
  const started: string[] = [];

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-seccomp-'));
    bundle = path.join(tmp, 'bundle');
    state = path.join(tmp, 'state');
    const rootfs = path.join(bundle, 'rootfs');
    for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'mnt', 'etc', 'root']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
    fs.copyFileSync(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
    fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
    const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox');
    for (const a of applets) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
    execFileSync(RUNC!, ['spec'], { cwd: bundle });
    baseConfig = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    fs.mkdirSync(state);
  });

  after(() => {
    for (const id of started) {
      try {
        execFileSync(RUNC!, ['--root', state, 'delete', '--force', id], { stdio: 'ignore' });
      } catch { /* already gone */ }
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  // Runs `args` in a fresh container with the given seccomp (null: none).
  async function run(args: string[], seccomp: OciSeccomp | null, caps = CAPS): Promise<Result> {
    const id = `berth-seccomp-${process.pid}-${++n}`;
    const config = structuredClone(baseConfig);
    config.process.args = args;
    config.process.terminal = false;
    config.process.env = ['PATH=/bin', 'HOME=/root'];
    config.process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] };
    config.root = { path: path.join(bundle, 'rootfs'), readonly: false };
    config.hostname = 'seccomp';
    if (seccomp) config.linux.seccomp = seccomp;
    else delete config.linux.seccomp;
    const dir = path.join(tmp, id);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    started.push(id);
    const child = spawn(RUNC!, ['--root', state, 'run', '--bundle', dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c) => resolve(c));
    }).finally(() => clearTimeout(timer));
    return { code, stdout, stderr };
  }

  const profile = () => defaultSeccompProfile({ capabilities: CAPS, kernel: os.release() });

  it('runs ordinary commands, with seccomp in filter mode', async () => {
    const r = await run(['sh', '-c', 'echo ok; ls /; cat /proc/self/status; sleep 0.1; date; id; wc -l /proc/self/maps >/dev/null; echo done'], profile());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok\n/);
    assert.match(r.stdout, /^bin$/m);
    assert.match(r.stdout, /^proc$/m);
    assert.match(r.stdout, /^Seccomp:\t2$/m);
    assert.match(r.stdout, /^uid=0\(root\)|^uid=0 /m);
    assert.match(r.stdout, /\bUTC \d{4}\n/);
    assert.match(r.stdout, /done\n$/);
  });

  it('runs pipelines, subshells and background jobs (clone without namespace flags)', async () => {
    const r = await run(['sh', '-c', 'echo a b c | tr " " "\\n" | sort -r | head -1; (sleep 0.05 & wait); x=$(echo sub); echo $x'], profile());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'c\nsub\n');
  });

  it('blocks creating a user namespace, which needs no capability', async () => {
    // Control: without the filter the same container can do it.
    const free = await run(['unshare', '-U', 'true'], null);
    assert.equal(free.code, 0, `unconfined unshare -U failed: ${free.stderr}`);
    const r = await run(['unshare', '-U', 'true'], profile());
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Operation not permitted/);
  });

  it('blocks other namespace, mount, swap and clock calls with EPERM', async () => {
    for (const args of [
      ['unshare', '-n', 'true'],
      ['unshare', '-m', 'true'],
      ['mount', '-t', 'tmpfs', 'none', '/mnt'],
      ['swapoff', '/tmp/no-such-swap'], // seccomp answers before the path lookup
      ['date', '-s', '2001-01-01'], // busybox reports the failure but exits 0
    ]) {
      const r = await run(args, profile());
      if (args[0] !== 'date') assert.notEqual(r.code, 0, args.join(' '));
      // busybox mount words EPERM as "permission denied (are you root?)".
      assert.match(r.stderr, /Operation not permitted|permission denied/, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  it('opens the mount and namespace family to a container with CAP_SYS_ADMIN', async () => {
    const caps = [...CAPS, 'CAP_SYS_ADMIN'];
    const p = defaultSeccompProfile({ capabilities: caps, kernel: os.release() });
    const r = await run(['sh', '-c', 'mount -t tmpfs none /mnt && grep -c " /mnt tmpfs " /proc/mounts && unshare -U -n true && echo ok'], p, caps);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1\nok\n');
  });

  it('allows the PER_LINUX32 personality (linux32)', async () => {
    const ok = await run(['linux32', 'uname', '-m'], profile());
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^i686\n$|^armv\w+\n$/);
  });
});
