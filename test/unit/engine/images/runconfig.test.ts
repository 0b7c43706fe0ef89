import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRunConfig } from '../../../../src/engine/images/runconfig';
import { BerthError } from '../../../../src/errors';

const refused = (field: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, 'InvalidArgument');
  assert.match(err.message, field);
  return true;
};

test('each run-config field of the wrong type is refused by name', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ Healthcheck: { Test: 5 } }, /^invalid Healthcheck\.Test: 5 is not a list of strings$/],
    [{ Healthcheck: { Test: ['CMD', 'true'], Interval: '1s' } }, /^invalid Healthcheck\.Interval: "1s"/],
    [{ Healthcheck: { Retries: 1.5 } }, /^invalid Healthcheck\.Retries/],
    [{ Healthcheck: 'none' }, /^invalid Healthcheck: "none" is not an object$/],
    [{ User: 0 }, /^invalid User/],
    [{ Env: 'A=1' }, /^invalid Env/],
    [{ Cmd: [1] }, /^invalid Cmd/],
    [{ Entrypoint: {} }, /^invalid Entrypoint/],
    [{ ExposedPorts: { '80/tcp': 1 } }, /^invalid ExposedPorts/],
    [{ Volumes: ['/data'] }, /^invalid Volumes/],
    [{ Labels: { a: 1 } }, /^invalid Labels/],
    [{ StopSignal: 9 }, /^invalid StopSignal/],
    [{ Shell: 5 }, /^invalid Shell/],
    [{ OnBuild: 'RUN x' }, /^invalid OnBuild/],
    [{ WorkingDir: [] }, /^invalid WorkingDir/],
  ];
  for (const [body, field] of cases) assert.throws(() => checkRunConfig(body), refused(field), JSON.stringify(body));
});

test('what Docker accepts passes: strings or lists for strslice fields, null anywhere, other fields untouched', () => {
  for (const body of [
    { Cmd: 'echo hi', Entrypoint: ['/bin/sh', '-c'], Shell: ['/bin/sh', '-c'] },
    { Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 1_000_000_000, Timeout: 0, StartPeriod: 0, StartInterval: 0, Retries: 3 } },
    { ExposedPorts: { '80/tcp': {}, '53/udp': null }, Volumes: { '/data': {} }, Labels: { a: 'b' } },
    { User: null, Env: null, Healthcheck: null, OnBuild: null, Cmd: null },
    { Hostname: 5, Image: [], SomethingElse: true },
    {},
  ]) {
    assert.doesNotThrow(() => checkRunConfig(body as Record<string, unknown>), JSON.stringify(body));
  }
});
