import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { validateCreateBody } from '../../../../src/server/containers/create';

const isInvalid = (re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError);
  assert.equal(err.kind, 'InvalidArgument');
  assert.match(err.message, re);
  return true;
};

test('an empty body is rejected', () => {
  assert.throws(() => validateCreateBody(undefined), isInvalid(/config cannot be empty/));
});

test('a string Cmd or Entrypoint becomes a one-element array', () => {
  const b = validateCreateBody({ Image: 'busybox', Cmd: 'echo hi', Entrypoint: '/bin/sh' });
  assert.deepEqual(b.Cmd, ['echo hi']);
  assert.deepEqual(b.Entrypoint, ['/bin/sh']);
});

test('array and null Cmd are kept; HostConfig defaults to {}', () => {
  const b = validateCreateBody({ Image: 'busybox', Cmd: ['a', 'b'], Entrypoint: null });
  assert.deepEqual(b.Cmd, ['a', 'b']);
  assert.equal(b.Entrypoint, null);
  assert.deepEqual(b.HostConfig, {});
});

test('valid fields pass through, including unknown ones', () => {
  const body = {
    Image: 'busybox', Env: ['A=1'], Labels: { a: 'b' }, Tty: false, OpenStdin: true, StopTimeout: 5, ExposedPorts: { '80/tcp': {} },
    HostConfig: { NetworkMode: 'host', AutoRemove: true, Binds: ['/a:/b'], RestartPolicy: { Name: 'no' } },
    SomethingNew: 42,
  };
  const b = validateCreateBody(body) as unknown as Record<string, unknown>;
  assert.deepEqual(b.Env, ['A=1']);
  assert.deepEqual(b.Labels, { a: 'b' });
  assert.equal(b.StopTimeout, 5);
  assert.equal(b.SomethingNew, 42);
  assert.deepEqual(b.HostConfig, body.HostConfig);
});

test('wrong Config field types are InvalidArgument naming the field', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ Image: 5 }, /cannot unmarshal number into field Config\.Image of type string/],
    [{ Cmd: 5 }, /Config\.Cmd of type \[\]string/],
    [{ Cmd: ['a', 1] }, /Config\.Cmd/],
    [{ Entrypoint: { a: 1 } }, /cannot unmarshal object into field Config\.Entrypoint/],
    [{ Env: 'A=1' }, /cannot unmarshal string into field Config\.Env of type \[\]string/],
    [{ Env: ['A=1', 2] }, /cannot unmarshal array into field Config\.Env/],
    [{ Labels: ['a'] }, /cannot unmarshal array into field Config\.Labels of type map\[string\]string/],
    [{ Labels: { a: 1 } }, /Config\.Labels/],
    [{ Tty: 'true' }, /cannot unmarshal string into field Config\.Tty of type boolean/],
    [{ AttachStdin: 1 }, /Config\.AttachStdin/],
    [{ StopTimeout: '10' }, /Config\.StopTimeout of type number/],
    [{ ExposedPorts: ['80/tcp'] }, /Config\.ExposedPorts of type object/],
    [{ HostConfig: [] }, /Config\.HostConfig of type object/],
    [{ HostConfig: 'x' }, /Config\.HostConfig/],
    [{ WorkingDir: [] }, /Config\.WorkingDir/],
  ];
  for (const [body, re] of cases) assert.throws(() => validateCreateBody({ Image: 'busybox', ...body }), isInvalid(re), JSON.stringify(body));
});

test('wrong HostConfig field types are InvalidArgument naming the field', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ AutoRemove: 'yes' }, /HostConfig\.AutoRemove of type boolean/],
    [{ Binds: '/a:/b' }, /HostConfig\.Binds of type \[\]string/],
    [{ NetworkMode: 1 }, /HostConfig\.NetworkMode of type string/],
    [{ RestartPolicy: 'always' }, /HostConfig\.RestartPolicy of type object/],
    [{ ReadonlyRootfs: 0 }, /HostConfig\.ReadonlyRootfs/],
    [{ Privileged: 'false' }, /HostConfig\.Privileged/],
  ];
  for (const [hc, re] of cases) assert.throws(() => validateCreateBody({ Image: 'busybox', HostConfig: hc }), isInvalid(re), JSON.stringify(hc));
});

test('null values are accepted as "not set"', () => {
  const b = validateCreateBody({ Image: 'busybox', Cmd: null, Env: null, Labels: null, HostConfig: { Binds: null } });
  assert.equal(b.Cmd, null);
  assert.equal(b.Env, null);
});
