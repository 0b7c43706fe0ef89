// berth-exec (the native exec runtime conmon runs for runc containers)
// against `runc exec` itself: the same execs into the same running
// container, once through each (daemon.json "exec-helper": false switches
// to runc, and a restart keeps the container), must see the same process
// state: capabilities, no_new_privs, seccomp (the very same BPF program,
// read back from the kernel), uid/gid/groups, signal mask, cgroups,
// namespaces, cwd, env, rlimits, umask, open fds, TTY ownership, and the
// same failure of a syscall the profile blocks. Real runc, conmon, kernel.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { api, docker, importBusybox, startDaemon, type TestDaemon } from './harness';

const pexec = promisify(execFile);

// What the exec'd process sees, printed by the process itself (sh) and by
// the commands it runs.
const PROBE = [
  'grep -E "^(Uid|Gid|Groups|Cap|NoNewPrivs|Seccomp|SigBlk|SigIgn)" /proc/$$/status',
  'cat /proc/self/cgroup',
  'for n in cgroup ipc mnt net pid pid_for_children user uts; do echo "$n $(readlink /proc/self/ns/$n) $(readlink /proc/1/ns/$n)"; done',
  'echo "cwd $(pwd)"',
  'env | sort',
  'ulimit -a',
  'echo "umask $(umask) oom $(cat /proc/self/oom_score_adj)"',
  'echo "fds $(ls /proc/self/fd | tr "\\n" " ")"',
  'echo "tty $(tty) $(ls -ln $(tty) 2>/dev/null | awk \'{print $1, $3, $4}\')"',
  'echo "pid1 $(tr "\\0" " " < /proc/1/cmdline)"',
  'unshare -m true 2>&1; echo "unshare $?"',
  'mount -t tmpfs t /mnt 2>&1; echo "mount $?"',
].join('; ');

// The execs compared: plain, another user with cwd and env, a user of the
// image, privileged, and with a TTY (as root and as another user).
const VARIANTS: string[][] = [
  [],
  ['-u', '1000:1000', '-w', '/tmp', '-e', 'FOO=bar', '-e', 'PATH=/bin'],
  ['-u', 'nobody'],
  ['--privileged'],
  ['-t'],
  ['-t', '-u', '1000'],
];

// A cBPF program as (code, jt, jf, k) rows.
function instructions(hex: string): number[][] {
  const b = Buffer.from(hex, 'hex');
  const out: number[][] = [];
  for (let i = 0; i + 8 <= b.length; i += 8) out.push([b.readUInt16LE(i), b[i + 2], b[i + 3], b.readUInt32LE(i + 4)]);
  return out;
}

// runc's -ENOSYS stub starts with "load arch" and one "jeq arch" per native
// architecture, in the random order of a Go map walk; the rest is fixed.
// So: the jump table as arch -> absolute target, and everything after it.
function normalized(hex: string): { table: Record<number, number>; rest: number[][] } {
  const p = instructions(hex);
  assert.deepEqual(p[0], [0x20, 0, 0, 4], 'the program starts by loading the arch');
  const table: Record<number, number> = {};
  let i = 1;
  for (; p[i][0] === 0x15; i++) table[p[i][3]] = i + 1 + p[i][1];
  return { table, rest: p.slice(i) };
}

// The seccomp filters of a process, as the kernel holds them (hex, one per
// filter), read with PTRACE_SECCOMP_GET_FILTER.
const DUMP = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long
pid = int(sys.argv[1])
def ok(r):
    if r < 0:
        e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
    return r
ok(libc.ptrace(0x4206, pid, None, None))  # PTRACE_SEIZE
ok(libc.ptrace(0x4207, pid, None, None))  # PTRACE_INTERRUPT
os.waitpid(pid, 0x40000000)
i = 0
while True:
    n = libc.ptrace(0x420c, pid, ctypes.c_void_p(i), None)  # PTRACE_SECCOMP_GET_FILTER
    if n < 0: break
    buf = ctypes.create_string_buffer(n * 8)
    ok(libc.ptrace(0x420c, pid, ctypes.c_void_p(i), buf))
    print(buf.raw.hex())
    i += 1
libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
`;

async function filtersOf(pid: number): Promise<string[]> {
  const { stdout } = await pexec('python3', ['-c', DUMP, String(pid)]);
  return stdout.trim().split('\n').filter(Boolean);
}

describe('berth-exec against runc exec', { timeout: 240_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
    const r = await docker(d, 'run', '-d', '--name', 'box', '--network', 'none', '-e', 'FROM_RUN=1', '-w', '/srv', 'busybox', 'sleep', '1000');
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await d?.stop();
  });

  const useHelper = async (on: boolean) => {
    fs.writeFileSync(path.join(d.base, 'daemon.json'), JSON.stringify(on ? {} : { 'exec-helper': false }));
    await d.restart();
  };

  // A detached exec through the API, for its host pid; and the runtime its
  // conmon was told to run (-r), read from the conmon's command line.
  const detached = async (cmd: string[]): Promise<{ pid: number; runtime: string }> => {
    const c = await api(d, 'POST', '/containers/box/exec', JSON.stringify({ Cmd: cmd }));
    assert.equal(c.status, 201, c.body);
    const exec = JSON.parse(c.body).Id as string;
    const s = await api(d, 'POST', `/exec/${exec}/start`, JSON.stringify({ Detach: true }));
    assert.equal(s.status, 200, s.body);
    const pid = JSON.parse((await api(d, 'GET', `/exec/${exec}/json`)).body).Pid as number;
    let runtime = '';
    for (const p of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      let argv: string[];
      try {
        argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      } catch {
        continue; // gone since the listing
      }
      if (argv.includes('--exec-process-spec') && argv.some((a) => a.includes(exec))) runtime = argv[argv.indexOf('-r') + 1];
    }
    return { pid, runtime };
  };

  const probeAll = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const v of VARIANTS) {
      const r = await docker(d, 'exec', ...v, 'box', 'sh', '-c', PROBE);
      assert.equal(r.code, 0, `${v.join(' ')}: ${r.stderr}`);
      out.push(r.stdout.replace(/\r\n/g, '\n'));
    }
    return out;
  };

  it('sees what runc exec gives, variant by variant, and runs the same seccomp program', async () => {
    // berth-exec (the default).
    const helper = await probeAll();
    const h = await detached(['sleep', '60']);
    assert.match(h.runtime, /berth-exec$/);
    const helperFilters = await filtersOf(h.pid);
    // The program was compiled once and is cached under the data root.
    assert.equal(fs.readdirSync(path.join(d.dataRoot, 'seccomp')).filter((n) => n.endsWith('.bpf')).length, 1);

    await useHelper(false);
    const runc = await probeAll();
    const r = await detached(['sleep', '60']);
    assert.match(r.runtime, /\/runc$/);
    const runcFilters = await filtersOf(r.pid);
    await useHelper(true);

    for (let i = 0; i < VARIANTS.length; i++) assert.equal(helper[i], runc[i], `docker exec ${VARIANTS[i].join(' ')}`);

    // One filter each, of the same length: runc's program. runc orders the
    // architectures (and so their sections and the jumps into them) as a Go
    // map walks them, at random: the same architectures, and the same
    // instructions (opcode and operand) once jump offsets are set aside.
    assert.equal(helperFilters.length, 1);
    assert.equal(runcFilters.length, 1);
    assert.equal(helperFilters[0].length, runcFilters[0].length);
    const a = normalized(helperFilters[0]);
    const b = normalized(runcFilters[0]);
    assert.ok(a.rest.length > 100, 'a real filter');
    assert.deepEqual(Object.keys(a.table).sort(), Object.keys(b.table).sort());
    // (An unconditional jump, BPF_JMP|BPF_JA, keeps its offset in k.)
    const shape = (hex: string) => instructions(hex).map(([code, , , k]) => (code === 0x05 ? 'ja' : `${code}:${k}`)).sort();
    assert.deepEqual(shape(helperFilters[0]), shape(runcFilters[0]));
  });

  it('is confined like the container: its namespaces, never the host\'s; seccomp and capabilities in force', async () => {
    const [plain, , nobody, privileged] = await probeAll();
    for (const line of plain.split('\n').filter((l) => /^(cgroup|ipc|mnt|net|pid|uts) /.test(l))) {
      const [name, self, init] = line.split(' ');
      assert.equal(self, init, `${name}: the container's init's namespace`);
      if (name === 'mnt' || name === 'pid') assert.notEqual(self, fs.readlinkSync(`/proc/self/ns/${name}`), `${name}: not the host's`);
    }
    assert.match(plain, /^pid1 sleep 1000 $/m);
    assert.match(plain, /^Seccomp:\s+2$/m);
    assert.match(plain, /^CapBnd:\s+00000000a80425fb$/m);
    assert.match(plain, /^0::\/$/m);
    assert.match(plain, /^unshare 1$/m);
    assert.match(plain, /Operation not permitted/);
    assert.match(plain, /^cwd \/srv$/m);
    assert.match(plain, /^FROM_RUN=1$/m);
    assert.match(nobody, /^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    assert.match(nobody, /^CapEff:\s+0000000000000000$/m);
    // Privileged: every capability, the same filter still.
    assert.match(privileged, /^Seccomp:\s+2$/m);
    assert.doesNotMatch(privileged, /^CapEff:\s+00000000a80425fb$/m);
  });

  it('exit codes and messages: 126, 127, and the process\'s own', async () => {
    const missing = await docker(d, 'exec', 'box', 'nosuch');
    assert.equal(missing.code, 127);
    assert.match(missing.stdout + missing.stderr, /exec: "nosuch": executable file not found in \$PATH/);
    const absent = await docker(d, 'exec', 'box', '/nosuch');
    assert.equal(absent.code, 127);
    assert.match(absent.stdout + absent.stderr, /stat \/nosuch: no such file or directory/);
    const notExec = await docker(d, 'exec', 'box', '/etc/passwd');
    assert.equal(notExec.code, 126);
    assert.match(notExec.stdout + notExec.stderr, /permission denied/);
    const dir = await docker(d, 'exec', 'box', '/etc');
    assert.equal(dir.code, 126);
    assert.equal((await docker(d, 'exec', 'box', 'sh', '-c', 'exit 7')).code, 7);
    const badCwd = await docker(d, 'exec', '-w', '/nosuch', 'box', 'true');
    assert.notEqual(badCwd.code, 0);
    assert.match(badCwd.stdout + badCwd.stderr, /chdir to cwd \("\/nosuch"\) set in config.json failed: no such file or directory/);
  });

  it('a paused container: 409; a stopped one: 409; the daemon keeps serving', async () => {
    assert.equal((await docker(d, 'pause', 'box')).code, 0);
    const paused = await docker(d, 'exec', 'box', 'true');
    assert.notEqual(paused.code, 0);
    assert.match(paused.stderr, /is paused, unpause the container before exec/);
    assert.equal((await docker(d, 'unpause', 'box')).code, 0);
    assert.equal((await docker(d, 'exec', 'box', 'true')).code, 0);

    assert.equal((await docker(d, 'run', '-d', '--name', 'gone', 'busybox', 'true')).code, 0);
    assert.equal((await docker(d, 'wait', 'gone')).code, 0);
    const stopped = await api(d, 'POST', '/containers/gone/exec', JSON.stringify({ Cmd: ['true'] }));
    assert.equal(stopped.status, 409);
    assert.match(JSON.parse(stopped.body).message, /is not running/);
    assert.equal((await docker(d, 'exec', 'box', 'true')).code, 0);
  });

  it('an unconfined container\'s exec runs without a filter, and the cached program is reused', async () => {
    const before = fs.readdirSync(path.join(d.dataRoot, 'seccomp')).filter((n) => n.endsWith('.bpf'));
    assert.equal((await docker(d, 'run', '-d', '--name', 'other', '--security-opt', 'seccomp=unconfined', 'busybox', 'sleep', '1000')).code, 0);
    const unconfined = await docker(d, 'exec', 'other', 'grep', 'Seccomp:', '/proc/self/status');
    assert.match(unconfined.stdout, /Seccomp:\s+0/);
    assert.equal((await docker(d, 'exec', 'box', 'true')).code, 0);
    assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'seccomp')).filter((n) => n.endsWith('.bpf')), before);
  });
});
