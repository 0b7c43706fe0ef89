import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../../../../src/errors';
import { applyChanges } from '../../../../src/engine/images/changes';
import type { ImageRunConfig } from '../../../../src/engine/images/types';

const isInvalid = (re?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError);
  assert.equal(err.kind, 'InvalidArgument');
  if (re) assert.match(err.message, re);
  return true;
};

test('CMD in JSON form', () => {
  assert.deepEqual(applyChanges({}, ['CMD ["echo", "hi there"]']).Cmd, ['echo', 'hi there']);
});

test('CMD in shell form runs through /bin/sh -c', () => {
  assert.deepEqual(applyChanges({}, ['CMD echo hi && ls']).Cmd, ['/bin/sh', '-c', 'echo hi && ls']);
});

test('CMD that only looks like JSON falls back to the shell form', () => {
  assert.deepEqual(applyChanges({}, ['CMD [not json']).Cmd, ['/bin/sh', '-c', '[not json']);
  // An array with non-strings is not the exec form either.
  assert.deepEqual(applyChanges({}, ['CMD [1, 2]']).Cmd, ['/bin/sh', '-c', '[1, 2]']);
});

test('ENTRYPOINT in both forms; instruction names are case-insensitive', () => {
  assert.deepEqual(applyChanges({}, ['ENTRYPOINT ["/bin/app", "--flag"]']).Entrypoint, ['/bin/app', '--flag']);
  assert.deepEqual(applyChanges({}, ['entrypoint /bin/app --flag']).Entrypoint, ['/bin/sh', '-c', '/bin/app --flag']);
});

test('ENV with several KEY=VALUE pairs and quoted values', () => {
  const c = applyChanges({}, [`ENV A=1 B="two words" C='single quoted' D=`]);
  assert.deepEqual(c.Env, ['A=1', 'B=two words', 'C=single quoted', 'D=']);
});

test('ENV with escaped quotes inside double quotes', () => {
  const c = applyChanges({}, ['ENV MSG="say \\"hi\\""']);
  assert.deepEqual(c.Env, ['MSG=say "hi"']);
});

test('ENV overrides an existing key in place and appends new ones', () => {
  const base: ImageRunConfig = { Env: ['PATH=/bin', 'A=0'] };
  const c = applyChanges(base, ['ENV A=1', 'ENV NEW=x', 'ENV PATH=/usr/bin:/bin']);
  assert.deepEqual(c.Env, ['PATH=/usr/bin:/bin', 'A=1', 'NEW=x']);
  // The input config is not modified.
  assert.deepEqual(base.Env, ['PATH=/bin', 'A=0']);
});

test('ENV in the old "KEY VALUE" form', () => {
  assert.deepEqual(applyChanges({}, ['ENV GREETING hello world']).Env, ['GREETING=hello world']);
});

test('ENV old form whose value contains "=" keeps the whole value', () => {
  // Docker: `ENV MSG hello=world` sets MSG to "hello=world".
  assert.deepEqual(applyChanges({}, ['ENV MSG hello=world']).Env, ['MSG=hello=world']);
});

test('ENV without a value is rejected', () => {
  assert.throws(() => applyChanges({}, ['ENV ONLYKEY']), isInvalid(/KEY=VALUE/));
});

test('LABEL adds to existing labels', () => {
  const base: ImageRunConfig = { Labels: { keep: 'me', version: '0.9' } };
  const c = applyChanges(base, ['LABEL version="1.0" maintainer=me']);
  assert.deepEqual(c.Labels, { keep: 'me', version: '1.0', maintainer: 'me' });
  assert.deepEqual(base.Labels, { keep: 'me', version: '0.9' });
});

test('EXPOSE defaults to tcp and keeps explicit protocols', () => {
  const c = applyChanges({ ExposedPorts: { '22/tcp': {} } }, ['EXPOSE 80 443/udp  8080/tcp']);
  assert.deepEqual(c.ExposedPorts, { '22/tcp': {}, '80/tcp': {}, '443/udp': {}, '8080/tcp': {} });
});

test('USER, WORKDIR and STOPSIGNAL are trimmed strings', () => {
  const c = applyChanges({}, ['USER  nobody:nogroup ', 'WORKDIR /app ', 'STOPSIGNAL SIGTERM']);
  assert.equal(c.User, 'nobody:nogroup');
  assert.equal(c.WorkingDir, '/app');
  assert.equal(c.StopSignal, 'SIGTERM');
});

test('VOLUME in the plain and the JSON form', () => {
  assert.deepEqual(applyChanges({}, ['VOLUME /data /logs']).Volumes, { '/data': {}, '/logs': {} });
  assert.deepEqual(applyChanges({ Volumes: { '/old': {} } }, ['VOLUME ["/a", "/b c"]']).Volumes, { '/old': {}, '/a': {}, '/b c': {} });
});

test('later changes win and blank changes are skipped', () => {
  const c = applyChanges({ Cmd: ['old'] }, ['', '   ', 'CMD ["a"]', 'CMD ["b"]']);
  assert.deepEqual(c.Cmd, ['b']);
});

test('fields not touched by a change are kept', () => {
  const c = applyChanges({ Cmd: ['sh'], User: 'root', Env: ['A=1'] }, ['WORKDIR /w']);
  assert.deepEqual(c, { Cmd: ['sh'], User: 'root', Env: ['A=1'], WorkingDir: '/w' });
});

test('unknown and unsupported instructions are rejected', () => {
  assert.throws(() => applyChanges({}, ['RUN echo hi']), isInvalid(/^RUN is not a valid change command$/));
  assert.throws(() => applyChanges({}, ['FROM busybox']), isInvalid(/FROM is not a valid change command/));
  assert.throws(() => applyChanges({}, ['"CMD" x']), isInvalid(/invalid change/));
});

test('a quoted value with a bad escape or a control character is refused naming the change', () => {
  assert.throws(() => applyChanges({}, ['ENV A="\\q"']), isInvalid(/^invalid change "ENV A=\\"\\\\q\\"": the quoted value "\\q" has a bad escape$/));
  assert.throws(() => applyChanges({}, ['LABEL x="a\tb"']), isInvalid(/^invalid change "LABEL x=\\"a\\tb\\"": .* has a control character$/));
  assert.throws(() => applyChanges({}, ['ENV B="\\u12"']), isInvalid(/ENV B=.*bad escape/));
  // Good escapes still work.
  assert.deepEqual(applyChanges({}, ['ENV A="x\\ty\\"z"']).Env, ['A=x\ty"z']);
});

test('HEALTHCHECK: the shell form is CMD-SHELL, the JSON form CMD; flags are Go durations', () => {
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK --interval=1s --timeout=500ms --start-period=1m --start-interval=2s --retries=4 CMD test -f /tmp/ok']).Healthcheck, {
    Test: ['CMD-SHELL', 'test -f /tmp/ok'], Interval: 1e9, Timeout: 5e8, StartPeriod: 60e9, StartInterval: 2e9, Retries: 4,
  });
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK CMD ["cat", "/tmp/ok"]']).Healthcheck, {
    Test: ['CMD', 'cat', '/tmp/ok'],
  });
  assert.deepEqual(applyChanges({}, ['healthcheck none']).Healthcheck, { Test: ['NONE'] });
});

test('HEALTHCHECK: the builder\'s refusals', () => {
  const cases: [string, RegExp][] = [
    ['HEALTHCHECK', /^HEALTHCHECK requires at least one argument$/],
    ['HEALTHCHECK NONE x', /^HEALTHCHECK NONE takes no arguments$/],
    ['HEALTHCHECK CMD', /^Missing command after HEALTHCHECK CMD$/],
    ['HEALTHCHECK RUN true', /^Unknown type "RUN" in HEALTHCHECK \(try CMD\)$/],
    ['HEALTHCHECK --interval=100us CMD true', /^Interval "interval" cannot be less than 1ms$/],
    ['HEALTHCHECK --timeout=5 CMD true', /^time: missing unit in duration "5"$/],
    ['HEALTHCHECK --retries=-1 CMD true', /^--retries cannot be negative \(-1\)$/],
    ['HEALTHCHECK --interval CMD true', /^Missing a value on flag: --interval$/],
    ['HEALTHCHECK --every=1s CMD true', /^Unknown flag: every$/],
  ];
  for (const [change, re] of cases) assert.throws(() => applyChanges({}, [change]), isInvalid(re), change);
});
