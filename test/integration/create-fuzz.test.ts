// Property test: POST /containers/create and POST /commit bodies generated
// from the Engine API spec's definitions (ContainerConfig, HostConfig,
// NetworkingConfig, following $ref/allOf, types, enums, x-nullable), with
// well-typed, wrong-typed and random values, sent to a real berthd. No answer
// may be a 5xx (bad input is the client's fault: 4xx), and /_ping answers
// after every request. Containers are created, never started.
//
// Deterministic: a fixed seed and a fixed number of bodies (the seed is
// printed; BERTH_FUZZ_SEED=n and BERTH_FUZZ_RUNS=n try others).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { projectRoot } from '../../src/util/paths';
import { api, importBusybox, ping, startDaemon, type TestDaemon } from './harness';

const SEED = Number(process.env.BERTH_FUZZ_SEED ?? 20251203);
const RUNS = Number(process.env.BERTH_FUZZ_RUNS ?? 250);

type Schema = {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  minimum?: number;
  maximum?: number;
  'x-nullable'?: boolean;
};

const spec = parse(fs.readFileSync(path.join(projectRoot(), 'third_party/docker-engine-api/docker-engine-api-1.51.yaml'), 'utf8')) as {
  definitions: Record<string, Schema>;
};

function resolve(s: Schema): Schema {
  if (s.$ref) return resolve(spec.definitions[s.$ref.replace('#/definitions/', '')]);
  if (s.allOf) {
    const parts = s.allOf.map(resolve);
    return { type: 'object', properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})) };
  }
  return s;
}

// Any JSON value: what a confused or hostile client might put anywhere.
const junk = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-1, 0, 2 ** 53, -(2 ** 63), 1e300, ''),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('../../etc', '/', 'a:b:c', 'SIGKILL', 'host', 'bridge', 'none', 'container:x', '-1', '0x10', ' '),
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 2 }),
);

// A value of the schema's type, built with depth left to `depth`.
function valid(s0: Schema, depth: number): fc.Arbitrary<unknown> {
  const s = resolve(s0);
  let arb: fc.Arbitrary<unknown>;
  if (s.enum) arb = fc.constantFrom(...s.enum);
  else if (s.type === 'boolean') arb = fc.boolean();
  else if (s.type === 'integer') {
    const bound = s.format === 'int32' || s.format === 'uint16' ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
    arb = fc.oneof(fc.integer({ min: s.minimum ?? -1, max: Math.min(s.maximum ?? 1e6, bound) }), fc.constantFrom(0, -1, bound));
  } else if (s.type === 'number') arb = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
  else if (s.type === 'string') arb = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('', '0', '/tmp', 'SIGTERM', 'rw', '1000:1000', 'linux'));
  else if (s.type === 'array') arb = depth <= 0 ? fc.constant([]) : fc.array(value(s.items ?? {}, depth - 1), { maxLength: 3 });
  else if (s.type === 'object' || s.properties || s.additionalProperties) {
    if (depth <= 0) arb = fc.constant({});
    else if (s.properties) {
      // A few of the properties at a time: with dozens, one of them is
      // nearly always invalid and the rest never get looked at.
      const props = Object.entries(s.properties);
      arb = fc.subarray(props, { maxLength: Math.min(4, props.length) }).chain((some) => fc.record(Object.fromEntries(some.map(([k, v]) => [k, value(v, depth - 1)]))));
    } else {
      const item = typeof s.additionalProperties === 'object' ? value(s.additionalProperties, depth - 1) : junk;
      arb = fc.dictionary(fc.string({ maxLength: 8 }), item, { maxKeys: 3 });
    }
  } else arb = junk;
  return s['x-nullable'] ? fc.option(arb, { nil: null, freq: 5 }) : arb;
}

// Mostly well-typed, sometimes wrong-typed or random.
function value(s: Schema, depth: number): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 6, arbitrary: valid(s, depth) }, { weight: 1, arbitrary: junk });
}

// Bodies that mostly name the image that exists and a command, so requests
// get past the first checks into the rest of validation.
function bodies(def: Schema): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      valid(def, 4) as fc.Arbitrary<Record<string, unknown>>,
      fc.oneof({ weight: 8, arbitrary: fc.constant('busybox') }, { weight: 1, arbitrary: junk }),
      fc.oneof({ weight: 6, arbitrary: fc.constant(['true']) }, { weight: 1, arbitrary: value({ type: 'array', items: { type: 'string' } }, 1) }),
    )
    .map(([b, image, cmd]) => ({ ...b, Image: image, Cmd: cmd }));
}

const createBody: Schema = {
  allOf: [{ $ref: '#/definitions/ContainerConfig' }, { type: 'object', properties: { HostConfig: { $ref: '#/definitions/HostConfig' }, NetworkingConfig: { $ref: '#/definitions/NetworkingConfig' } } }],
};

interface Failure { status: number; message: string; body: unknown }

// The 4xx answers by message (ids and numbers blanked), most frequent first:
// shows how far into validation the generated bodies get.
function tally(messages: string[]): string {
  const n = new Map<string, number>();
  for (const m of messages) {
    const k = m.replace(/[0-9a-f]{12,64}/g, '<id>').replace(/"[^"]*"/g, '"…"').replace(/-?\d+(\.\d+)?/g, 'N').slice(0, 90);
    n.set(k, (n.get(k) ?? 0) + 1);
  }
  return [...n].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, c]) => `#   ${c} x ${k}`).join('\n');
}

// 5xx answers whose cause is known and lies in create/commit validation
// (src/engine/containers/service.ts validateCreateBody, and commit's use of
// it), which is being rewritten: each entry is a family of messages. The
// "known failures" subtests below are TODO until they are fixed; then remove
// the entry, and the subtest passes for good.
const KNOWN: { family: string; match: RegExp }[] = [
];

function family(f: Failure): string {
  return KNOWN.find((k) => k.match.test(f.message))?.family ?? `unknown: ${f.message.replace(/[0-9a-f]{12,64}/g, '<id>').slice(0, 160)}`;
}

function report(name: string, failures: Failure[]): Map<string, Failure[]> {
  const groups = new Map<string, Failure[]>();
  for (const f of failures) groups.set(family(f), [...(groups.get(family(f)) ?? []), f]);
  for (const [fam, list] of groups) {
    console.log(`# ${name}: ${list.length} x ${list[0].status} ${fam}\n#   e.g. ${JSON.stringify(list[0].body).slice(0, 600)}\n#   -> ${list[0].message.slice(0, 300)}`);
  }
  return groups;
}

describe('generated create and commit bodies', { timeout: 180_000 }, () => {
  let d: TestDaemon;
  let base: string;
  const failures: Record<'create' | 'commit', Failure[]> = { create: [], commit: [] };
  before(async () => {
    console.log(`# fast-check seed ${SEED}, ${RUNS} create bodies, ${Math.ceil(RUNS / 5)} commit bodies`);
    d = await startDaemon();
    await importBusybox(d);
    const r = await api(d, 'POST', '/containers/create?name=fuzz-base', JSON.stringify({ Image: 'busybox', Cmd: ['true'] }));
    assert.equal(r.status, 201, r.body);
    base = JSON.parse(r.body).Id;
  });
  after(async () => {
    await d?.stop();
  });

  it('POST /containers/create: no 5xx for bad bodies, /_ping answers throughout', async () => {
    // The name query parameter too: absent, valid, or anything.
    const name = fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_.-]{0,20}$/) });
    const samples = fc.sample(fc.tuple(bodies(createBody), name), { seed: SEED, numRuns: RUNS });
    let created = 0;
    const refused: string[] = [];
    for (const [body, n] of samples) {
      const r = await api(d, 'POST', `/containers/create${n === undefined ? '' : `?name=${encodeURIComponent(n)}`}`, JSON.stringify(body));
      if (r.status >= 400 && r.status < 500) refused.push(safeMessage(r.body));
      if (r.status >= 500) failures.create.push({ status: r.status, message: safeMessage(r.body), body: { name: n, body } });
      else assert.ok(r.status === 201 || (r.status >= 400 && r.status < 500), `${r.status} ${r.body}`);
      if (r.status === 201) {
        created++;
        const del = await api(d, 'DELETE', `/containers/${JSON.parse(r.body).Id}?force=1`);
        assert.equal(del.status, 204, del.body);
      }
      assert.equal(await ping(d.socket), true, `/_ping after ${JSON.stringify(body)}`);
    }
    console.log(`# create: ${created} of ${samples.length} bodies created a container; refused:\n${tally(refused)}`);
    const groups = report('create', failures.create);
    assert.deepEqual([...groups.keys()].filter((k) => k.startsWith('unknown')), [], 'unexpected 5xx answers to create (see the lines above)');
  });

  it('POST /commit: no 5xx for bad bodies, /_ping answers throughout', async () => {
    const samples = fc.sample(bodies({ $ref: '#/definitions/ContainerConfig' }), { seed: SEED + 1, numRuns: Math.ceil(RUNS / 5) });
    let committed = 0;
    const refused: string[] = [];
    for (const body of samples) {
      const r = await api(d, 'POST', `/commit?container=${base}`, JSON.stringify(body));
      if (r.status >= 400 && r.status < 500) refused.push(safeMessage(r.body));
      if (r.status >= 500) failures.commit.push({ status: r.status, message: safeMessage(r.body), body });
      else assert.ok(r.status === 201 || (r.status >= 400 && r.status < 500), `${r.status} ${r.body}`);
      if (r.status === 201) {
        committed++;
        const del = await api(d, 'DELETE', `/images/${JSON.parse(r.body).Id}`);
        assert.equal(del.status, 200, del.body);
      }
      assert.equal(await ping(d.socket), true, `/_ping after ${JSON.stringify(body)}`);
    }
    console.log(`# commit: ${committed} of ${samples.length} bodies made an image; refused:\n${tally(refused)}`);
    const groups = report('commit', failures.commit);
    assert.deepEqual([...groups.keys()].filter((k) => k.startsWith('unknown')), [], 'unexpected 5xx answers to commit (see the lines above)');
  });

  for (const k of KNOWN) {
    it(`known 5xx family, to be fixed in create/commit validation: ${k.family}`, { todo: 'the lead\'s validateCreateBody rewrite' }, () => {
      const hits = [...failures.create, ...failures.commit].filter((f) => k.match.test(f.message));
      assert.equal(hits.length, 0, `${hits.length} answers: ${hits[0]?.message}`);
    });
  }
});

function safeMessage(body: string): string {
  try {
    return String(JSON.parse(body).message);
  } catch {
    return body;
  }
}
