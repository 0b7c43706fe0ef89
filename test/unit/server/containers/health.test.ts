// A create body's Healthcheck: merged over the image's as dockerd merges
// it, shown by inspect (the meta), and the engine's healthcheck made of it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { healthcheckSpec, mergeHealthcheck, translateCreate } from '../../../../src/server/containers/create';
import type { ImageRecord } from '../../../../src/engine/images/types';
import { hostPlatform } from '../../../../src/oci/platform';

const IMAGE_HC = { Test: ['CMD-SHELL', 'curl -f localhost'], Interval: 10e9, Timeout: 2e9, StartPeriod: 0, StartInterval: 0, Retries: 5 };

function image(hc?: unknown, shell?: string[]): ImageRecord {
  const p = hostPlatform();
  return {
    id: 'sha256:' + 'a'.repeat(64), size: 0,
    config: { architecture: p.architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: ['sh'], ...(hc ? { Healthcheck: hc } : {}), ...(shell ? { Shell: shell } : {}) } },
  };
}

const create = (body: Record<string, unknown>, img: ImageRecord) => translateCreate({ Image: 'img', HostConfig: {}, ...body }, () => img);

test('the image\'s healthcheck is the container\'s unless the request gives one', () => {
  const t = create({}, image(IMAGE_HC));
  assert.deepEqual(t.meta.Config.Healthcheck, { Test: IMAGE_HC.Test, Interval: 10e9, Timeout: 2e9, Retries: 5 });
  assert.deepEqual(t.spec.healthcheck, { cmd: ['/bin/sh', '-c', 'curl -f localhost'], interval: 10_000, timeout: 2000, startPeriod: 0, startInterval: 0, retries: 5 });
});

test('fields the request leaves zero come from the image\'s (dockerd\'s merge)', () => {
  const t = create({ Healthcheck: { Test: null, Interval: 1e9, Timeout: 0, Retries: 0 } }, image(IMAGE_HC));
  assert.deepEqual(t.meta.Config.Healthcheck, { Test: IMAGE_HC.Test, Interval: 1e9, Timeout: 2e9, Retries: 5 });
  assert.equal(t.spec.healthcheck?.interval, 1000);
  const own = create({ Healthcheck: { Test: ['CMD', 'cat', '/ok'], Interval: 1_500_000 } }, image(IMAGE_HC));
  assert.deepEqual(own.spec.healthcheck, { cmd: ['cat', '/ok'], interval: 1.5, timeout: 2000, startPeriod: 0, startInterval: 0, retries: 5 });
});

test('NONE turns the image\'s off; no test at all is no healthcheck', () => {
  const t = create({ Healthcheck: { Test: ['NONE'] } }, image(IMAGE_HC));
  assert.equal(t.spec.healthcheck, undefined);
  assert.deepEqual((t.meta.Config.Healthcheck as { Test: string[] }).Test, ['NONE']);
  assert.equal(create({}, image()).spec.healthcheck, undefined);
  assert.equal(create({}, image()).meta.Config.Healthcheck, undefined);
  assert.equal(create({ Healthcheck: { Interval: 1e9 } }, image()).spec.healthcheck, undefined);
});

test('CMD-SHELL runs through the container\'s shell', () => {
  assert.deepEqual(create({ Healthcheck: { Test: ['CMD-SHELL', 'true'] } }, image(undefined, ['/bin/ash', '-eo', 'pipefail', '-c'])).spec.healthcheck?.cmd, ['/bin/ash', '-eo', 'pipefail', '-c', 'true']);
  assert.deepEqual(healthcheckSpec({ Test: ['CMD-SHELL', 'x'] }, undefined)?.cmd, ['/bin/sh', '-c', 'x']);
  // An image's test of a kind berth cannot run is none (dockerd ignores it too).
  assert.equal(healthcheckSpec({ Test: ['WHAT', 'x'] }, undefined), undefined);
  assert.deepEqual(mergeHealthcheck(undefined, undefined), undefined);
});

test('dockerd\'s checks on the request\'s durations are 400s', () => {
  assert.throws(() => create({ Healthcheck: { Test: ['CMD', 'true'], Interval: 500_000 } }, image()), { message: 'Interval in Healthcheck cannot be less than 1ms' });
});
