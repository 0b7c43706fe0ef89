// The exec body tables against the Engine API 1.51 spec, and the exec
// route's translation of Docker's ExecConfig into the engine's ExecSpec.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { BerthError } from '../../../../src/errors';
import { checkBody, EXEC_FIELDS, EXEC_START_FIELDS } from '../../../../src/server/compat/exec-fields';
import { execInspect, translateExecConfig } from '../../../../src/server/routes/exec';
import { projectRoot } from '../../../../src/util/paths';

const spec = parse(fs.readFileSync(path.join(projectRoot(), 'third_party/docker-engine-api/docker-engine-api-1.51.yaml'), 'utf8'));
const bodyProps = (route: string, name: string): Record<string, { type?: string }> =>
  spec.paths[route].post.parameters.find((p: { name: string }) => p.name === name).schema.properties;

const isInvalid = (re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, 'InvalidArgument');
  assert.match(err.message, re);
  return true;
};

describe('the exec field tables', () => {
  test('have every field of ExecConfig and ExecStartConfig in the 1.51 spec, with its type', () => {
    for (const [table, props] of [[EXEC_FIELDS, bodyProps('/containers/{id}/exec', 'execConfig')], [EXEC_START_FIELDS, bodyProps('/exec/{id}/start', 'execStartConfig')]] as const) {
      for (const [k, p] of Object.entries(props)) {
        assert.ok(table[k], `${k} is missing from the table`);
        const t = table[k].type;
        assert.ok(p.type === 'array' ? ['array', 'strings'].includes(t) : p.type === t, `${k}: ${p.type} vs ${t}`);
      }
      // Fields beyond the spec are only what clients are known to send.
      for (const k of Object.keys(table)) if (!props[k]) assert.equal(table[k].status, 'ignored', k);
    }
  });

  test('what the docker CLI sends passes, and becomes the engine\'s spec', () => {
    const body = { User: 'app', Privileged: true, Tty: true, ConsoleSize: [40, 100], AttachStdin: true, AttachStderr: true, AttachStdout: true, Detach: false, DetachKeys: 'ctrl-x,y', Env: ['A=1'], WorkingDir: '/w', Cmd: ['sh'] };
    assert.deepEqual(translateExecConfig(body, '1.50'), {
      cmd: ['sh'], env: ['A=1'], user: 'app', cwd: '/w', tty: true, privileged: true, stdin: true, stdout: true, stderr: true, detachKeys: Buffer.from([24, 0x79]),
      consoleSize: { height: 40, width: 100 },
    });
    // Below 1.42, and without a TTY, the console size is dropped, as dockerd does.
    assert.equal(translateExecConfig(body, '1.41').consoleSize, undefined);
    assert.equal(translateExecConfig({ ...body, Tty: false }, '1.50').consoleSize, undefined);
  });

  test('malformed and unknown fields are 400s naming them', () => {
    assert.throws(() => translateExecConfig(undefined, '1.51'), isInvalid(/No exec command specified/));
    assert.throws(() => translateExecConfig({ Cmd: [] }, '1.51'), isInvalid(/No exec command specified/));
    assert.throws(() => translateExecConfig({ Cmd: 'ls' }, '1.51'), isInvalid(/cannot unmarshal string into field Cmd/));
    assert.throws(() => translateExecConfig({ Cmd: ['ls'], Tty: 'yes' }, '1.51'), isInvalid(/field Tty/));
    assert.throws(() => translateExecConfig({ Cmd: ['ls'], ConsoleSize: [1] }, '1.51'), isInvalid(/invalid ConsoleSize/));
    assert.throws(() => translateExecConfig({ Cmd: ['ls'], DetachKeys: 'ctrl-1' }, '1.51'), isInvalid(/Invalid escape keys/));
    assert.throws(() => translateExecConfig({ Cmd: ['ls'], Bogus: true }, '1.51'), isInvalid(/unknown field Bogus/));
    // A zero unknown field is what a newer client may send: it passes.
    translateExecConfig({ Cmd: ['ls'], Bogus: null }, '1.51');
    checkBody(EXEC_START_FIELDS, { Detach: true, Tty: false, hijack: true, stdin: true });
    assert.throws(() => checkBody(EXEC_START_FIELDS, { Detach: 'no' }), isInvalid(/field Detach/));
  });

  test('detach keys read as Docker reads them (the attach route\'s parser), in dockerd\'s words for exec', () => {
    const keys = (k: string) => translateExecConfig({ Cmd: ['sh'], DetachKeys: k }, '1.51').detachKeys;
    assert.deepEqual([...keys('ctrl-p,ctrl-q')!], [0x10, 0x11]);
    assert.deepEqual([...keys('a,ctrl-@,ctrl-_,ctrl-[')!], [0x61, 0, 0x1f, 0x1b]);
    assert.equal(keys(''), undefined);
    for (const bad of ['ctrl-', 'ab', 'ctrl-ab', 'a,,b', 'ctrl-1', 'ctrl-P']) {
      assert.throws(() => keys(bad), isInvalid(new RegExp(`^Invalid escape keys \\(${bad.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}\\) provided$`)), bad);
    }
  });

  test('inspect shows ExitCode null until the session has exited', () => {
    const s = { id: 'e1', containerId: 'c1', user: 'app', running: true, pid: 42, canRemove: false, spec: translateExecConfig({ Cmd: ['sh', '-c', 'exit 2'], AttachStdout: true }, '1.51') };
    const v = execInspect(s);
    assert.equal(v.ExitCode, null);
    assert.deepEqual(v.ProcessConfig, { tty: false, entrypoint: 'sh', arguments: ['-c', 'exit 2'], privileged: false, user: 'app' });
    assert.equal(execInspect({ ...s, running: false, exitCode: 2 }).ExitCode, 2);
    // DetachKeys as dockerd writes its []byte: base64, "" when not given.
    assert.equal(v.DetachKeys, '');
    assert.equal(execInspect({ ...s, spec: { ...s.spec, detachKeys: Buffer.from([16, 17]) } }).DetachKeys, 'EBE=');
  });
});
