import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { BerthError } from '../../../src/errors';
import { boolParam, detachKeysValue, filtersParam, intParam, readBody, readJSON, requestBody, requestJSON, stdcopyFrame } from '../../../src/server/http';
import type { Ctx } from '../../../src/server/router';
import { PassThrough } from 'node:stream';

const q = (s: string) => new URLSearchParams(s);
const isInvalid = (re: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, String(err));
  assert.equal(err.kind, 'InvalidArgument');
  assert.match(err.message, re);
  return true;
};
const req = (...chunks: (string | Buffer)[]) =>
  Object.assign(Readable.from(chunks.map((c) => Buffer.from(c))), { headers: {} }) as unknown as IncomingMessage;
const typed = (contentType: string, body: string) =>
  Object.assign(Readable.from([Buffer.from(body)]), { headers: { 'content-type': contentType } }) as unknown as IncomingMessage;

test('boolParam: true values', () => {
  for (const v of ['1', 'true', 'True', 'TRUE', 'yes', 'on', 'anything']) assert.equal(boolParam(q(`f=${v}`), 'f'), true, v);
});

test('boolParam: false values', () => {
  for (const v of ['0', 'false', 'False', 'FALSE', 'no', 'NO']) assert.equal(boolParam(q(`f=${v}`), 'f', true), false, v);
});

test('boolParam: missing gives the default, empty is false (Docker BoolValueOrDefault)', () => {
  assert.equal(boolParam(q(''), 'f'), false);
  assert.equal(boolParam(q(''), 'f', true), true);
  assert.equal(boolParam(q('f='), 'f', true), false);
  assert.equal(boolParam(q('other=1'), 'f'), false);
});

test('boolParam: "none" is false, as in Docker\'s httputils.BoolValue', () => {
  assert.equal(boolParam(q('f=none'), 'f'), false);
  assert.equal(boolParam(q('f=%200%20'), 'f'), false);
});

test('intParam parses integers', () => {
  assert.equal(intParam(q('t=10'), 't'), 10);
  assert.equal(intParam(q('t=-1'), 't'), -1);
  assert.equal(intParam(q('t=0'), 't'), 0);
  assert.equal(intParam(q(''), 't'), undefined);
  assert.equal(intParam(q('t='), 't'), undefined);
});

test('intParam rejects non-integers with InvalidArgument', () => {
  for (const v of ['abc', '1.5', '10s', '1e3', '--1', ' 1']) {
    assert.throws(
      () => intParam(q(`t=${encodeURIComponent(v)}`), 't'),
      (err: unknown) => err instanceof BerthError && err.kind === 'InvalidArgument' && err.message === `invalid value for t: ${JSON.stringify(v)}`,
      v,
    );
  }
});

test('filtersParam: the current {"key": ["v1", "v2"]} shape', () => {
  const f = filtersParam(q(`filters=${encodeURIComponent('{"status":["running","exited"],"label":["a=b"]}')}`));
  assert.deepEqual([...f.entries()], [['status', ['running', 'exited']], ['label', ['a=b']]]);
});

test('filtersParam: the old {"key": {"v1": true}} shape', () => {
  const f = filtersParam(q(`filters=${encodeURIComponent('{"dangling":{"true":true},"label":{"a=b":true,"c":true}}')}`));
  assert.deepEqual(f.get('dangling'), ['true']);
  assert.deepEqual(f.get('label'), ['a=b', 'c']);
});

test('filtersParam: missing or empty gives an empty map', () => {
  assert.equal(filtersParam(q('')).size, 0);
  assert.equal(filtersParam(q('filters=')).size, 0);
  assert.equal(filtersParam(q('filters=%7B%7D')).size, 0);
});

test('filtersParam: invalid JSON and wrong shapes are InvalidArgument', () => {
  for (const raw of ['{not json', '[]', '"str"', '5', 'null', '{"a":"b"}', '{"a":5}', '{"a":null}']) {
    assert.throws(() => filtersParam(q(`filters=${encodeURIComponent(raw)}`)), isInvalid(/^invalid filters: /), raw);
  }
});

test('stdcopyFrame: 8-byte header with the stream and a big-endian length', () => {
  const out = stdcopyFrame(1, Buffer.from('hello'));
  assert.deepEqual([...out.subarray(0, 8)], [1, 0, 0, 0, 0, 0, 0, 5]);
  assert.equal(out.subarray(8).toString(), 'hello');

  const big = Buffer.alloc(0x012345, 0x61);
  const f = stdcopyFrame(2, big);
  assert.deepEqual([...f.subarray(0, 8)], [2, 0, 0, 0, 0x00, 0x01, 0x23, 0x45]);
  assert.equal(f.length, 8 + big.length);
  assert.deepEqual(f.subarray(8), big);

  assert.deepEqual([...stdcopyFrame(2, Buffer.alloc(0))], [2, 0, 0, 0, 0, 0, 0, 0]);
});

test('readBody concatenates chunks and enforces the limit', async () => {
  assert.equal((await readBody(req('ab', 'cd', 'e'))).toString(), 'abcde');
  await assert.rejects(readBody(req('abc', 'def'), 5), isInvalid(/request body is larger than 5 bytes/));
  assert.equal((await readBody(req('abcde'), 5)).toString(), 'abcde');
});

test('readJSON: empty body is undefined; objects parse; everything else is InvalidArgument', async () => {
  assert.equal(await readJSON(req()), undefined);
  assert.equal(await readJSON(req('  \n')), undefined);
  assert.equal(await readJSON(req('null')), undefined);
  assert.deepEqual(await readJSON(req('{"Image":', '"busybox"}')), { Image: 'busybox' });
  await assert.rejects(readJSON(req('{"Image":')), isInvalid(/^invalid JSON: /));
  await assert.rejects(readJSON(req('[1,2]')), isInvalid(/expected an object/));
  await assert.rejects(readJSON(req('"str"')), isInvalid(/expected an object/));
});

test('readJSON: a body must be sent as application/json when a Content-Type is given', async () => {
  assert.deepEqual(await readJSON(typed('application/json; charset=utf-8', '{"a":1}')), { a: 1 });
  await assert.rejects(readJSON(typed('text/plain', '{"a":1}')), isInvalid(/must be 'application\/json'/));
});

test('requestBody takes an upgrade\'s body off the socket, across packets, and leaves what follows for stdin', async () => {
  const socket = new PassThrough();
  const ctx = { req: { headers: { 'content-length': '12', 'content-type': 'application/json' } }, upgrade: { socket, head: Buffer.alloc(0) } } as unknown as Ctx;
  socket.write('{"stre');
  setImmediate(() => socket.write('am":1}ls\n'));
  assert.deepEqual(await requestJSON(ctx), { stream: 1 });
  const got: string[] = [];
  socket.on('data', (c: Buffer) => got.push(c.toString()));
  socket.resume();
  socket.write('more');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['ls\n', 'more']);
  // Without a body (the docker CLI sends Content-Length: 0), nothing is read.
  const s2 = new PassThrough();
  assert.equal((await requestBody({ req: { headers: { 'content-length': '0' } }, upgrade: { socket: s2, head: Buffer.alloc(0) } } as unknown as Ctx)).length, 0);
  // A body cut short is refused, not waited for.
  const s3 = new PassThrough();
  const short = requestBody({ req: { headers: { 'content-length': '10' } }, upgrade: { socket: s3, head: Buffer.alloc(0) } } as unknown as Ctx);
  s3.end('{}');
  await assert.rejects(short, isInvalid(/ended after 2 of its 10 bytes/));
});

test('detachKeysValue: Docker\'s format, in dockerd\'s words for the route', () => {
  assert.equal(detachKeysValue('', 'detach'), undefined);
  assert.deepEqual([...detachKeysValue('ctrl-e,e', 'detach')!], [5, 0x65]);
  assert.throws(() => detachKeysValue('ctrl-P', 'detach'), isInvalid(/^Invalid detach keys \(ctrl-P\) provided$/));
  assert.throws(() => detachKeysValue('a,,b', 'escape'), isInvalid(/^Invalid escape keys \(a,,b\) provided$/));
});
