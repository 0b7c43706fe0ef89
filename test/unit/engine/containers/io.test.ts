import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Attachments, type AttachOptions, type AttachSink } from '../../../../src/engine/containers/io';
import type { ProcessStream } from '../../../../src/engine/runtime/runtime';

const tick = () => new Promise((r) => setImmediate(r));

// A shim stream the test drives: out() is the process printing; stdin,
// stdinClosed, closed and paused record what the attach did to it.
function fakeStream() {
  let onData: (s: 1 | 2, d: Buffer) => void = () => {};
  let onEnd: () => void = () => {};
  const st = {
    stdin: [] as string[], stdinClosed: false, closed: false, paused: false,
    out: (d: string, s: 1 | 2 = 1) => onData(s, Buffer.from(d)),
    end: () => onEnd(),
    stream: {
      pump: (d, e) => { onData = d; onEnd = e; },
      write: async (d) => { st.stdin.push(d.toString('latin1')); },
      closeStdin: () => { st.stdinClosed = true; },
      close: () => { st.closed = true; },
      pause: () => { st.paused = true; },
      resume: () => { st.paused = false; },
    } as ProcessStream,
  };
  return st;
}

interface TestSink {
  got: [number, string][];
  ended: number;
  drains: (() => void)[];
  full: boolean;
  sink: AttachSink;
}

function sink(full = false): TestSink {
  const s: TestSink = {
    got: [] as [number, string][], ended: 0, drains: [] as (() => void)[], full,
    sink: {
      out: (stream, d) => { s.got.push([stream, d.toString()]); return !s.full; },
      onDrain: (cb) => { s.drains.push(cb); },
      end: () => { s.ended++; },
    } as AttachSink,
  };
  return s;
}

const opts = (o: Partial<AttachOptions> = {}): AttachOptions => ({ stdin: true, stdout: true, stderr: true, stream: true, logs: false, ...o });

test('TTY: the detach keys end the attach, are not passed on, and the process keeps its stdin', async () => {
  let detached = 0;
  const io = new Attachments(() => {}, { tty: true, stdinOnce: true }, () => detached++);
  const st = fakeStream();
  const s = sink();
  const h = io.add(opts(), s.sink, () => st.stream);
  h.write(Buffer.from('ls\r\x10'));
  h.write(Buffer.from('\x11ignored'));
  await tick();
  assert.deepEqual(st.stdin, ['ls\r']);
  assert.equal(s.ended, 1);
  assert.equal(detached, 1);
  assert.equal(st.closed, true);
  assert.equal(st.stdinClosed, false, 'a TTY\'s stdin outlives the client');
});

test('TTY: custom detach keys; a partial match followed by other keys passes them all', async () => {
  const io = new Attachments(() => {}, { tty: true, stdinOnce: false });
  const st = fakeStream();
  const s = sink();
  const h = io.add(opts({ detachKeys: Buffer.from([24, 25]) }), s.sink, () => st.stream);
  h.write(Buffer.from('\x10\x11'));
  h.write(Buffer.from('\x18a'));
  await tick();
  assert.deepEqual(st.stdin, ['\x10\x11', '\x18a']);
  assert.equal(s.ended, 0);
  h.write(Buffer.from('\x18\x19'));
  await tick();
  assert.equal(s.ended, 1);
});

test('non-TTY: no detach keys; StdinOnce: the client\'s EOF closes the process\'s stdin and output keeps flowing', async () => {
  const io = new Attachments(() => {}, { tty: false, stdinOnce: true });
  const st = fakeStream();
  const s = sink();
  const h = io.add(opts(), s.sink, () => st.stream);
  h.write(Buffer.from('\x10\x11hi\n'));
  h.closeStdin();
  await tick();
  assert.deepEqual(st.stdin, ['\x10\x11hi\n']);
  assert.equal(st.stdinClosed, true);
  assert.equal(s.ended, 0);
  st.out('hi\n');
  st.out('oops', 2);
  st.end();
  assert.deepEqual(s.got, [[1, 'hi\n'], [2, 'oops']]);
  assert.equal(s.ended, 1);
});

test('without StdinOnce (or with a TTY) the client\'s EOF ends the attach once its input is sent; stdin stays open', async () => {
  for (const mode of [{ tty: false, stdinOnce: false }, { tty: true, stdinOnce: true }]) {
    const io = new Attachments(() => {}, mode);
    const st = fakeStream();
    const s = sink();
    const h = io.add(opts(), s.sink, () => st.stream);
    h.write(Buffer.from('last'));
    h.closeStdin();
    await tick();
    assert.deepEqual(st.stdin, ['last'], JSON.stringify(mode));
    assert.equal(st.stdinClosed, false);
    assert.equal(st.closed, true);
    assert.equal(s.ended, 1);
  }
});

test('before the process exists: stdin and its EOF wait, and reach it in order once connected', async () => {
  const io = new Attachments(() => {}, { tty: false, stdinOnce: true });
  const st = fakeStream();
  const s = sink();
  const h = io.add(opts(), s.sink);
  h.write(Buffer.from('early'));
  h.closeStdin();
  h.write(Buffer.from('dropped'));
  assert.equal(s.ended, 0);
  io.connectAll(() => st.stream);
  await tick();
  assert.deepEqual(st.stdin, ['early']);
  assert.equal(st.stdinClosed, true);
});

test('stdin of a client that did not ask for it goes nowhere; only the streams asked for are forwarded', async () => {
  const io = new Attachments(() => {}, { tty: false, stdinOnce: false });
  const st = fakeStream();
  const s = sink();
  const h = io.add(opts({ stdin: false, stdout: false }), s.sink, () => st.stream);
  h.write(Buffer.from('x'));
  h.closeStdin();
  st.out('o', 1);
  st.out('e', 2);
  await tick();
  assert.deepEqual(st.stdin, []);
  assert.deepEqual(s.got, [[2, 'e']]);
  assert.equal(s.ended, 0);
});

test('a client that cannot keep up pauses the stream until it drains (backpressure)', () => {
  const io = new Attachments(() => {}, { tty: true, stdinOnce: false });
  const st = fakeStream();
  const s = sink(true);
  io.add(opts(), s.sink, () => st.stream);
  st.out('a lot');
  assert.equal(st.paused, true);
  s.full = false;
  s.drains.shift()!();
  assert.equal(st.paused, false);
  st.out('more');
  assert.equal(st.paused, false);
});

test('a client that goes away is dropped without being told; the stream is closed', () => {
  const io = new Attachments(() => {}, { tty: false, stdinOnce: false });
  const st = fakeStream();
  const s = sink();
  const h = io.add(opts(), s.sink, () => st.stream);
  h.detach();
  assert.equal(st.closed, true);
  io.endAll();
  assert.equal(s.ended, 0);
});

test('endAll with drainMs: a connected client still gets what the shim sends, and ends with its stream; one not connected ends at once', () => {
  const io = new Attachments(() => {});
  const st = fakeStream();
  const connected = sink();
  const waiting = sink();
  io.add(opts({ stdin: false }), connected.sink, () => st.stream);
  const io2 = new Attachments(() => {});
  io2.add(opts({ stdin: false }), waiting.sink);
  io.endAll({ drainMs: 60_000 });
  io2.endAll({ drainMs: 60_000 });
  assert.equal(waiting.ended, 1);
  assert.equal(connected.ended, 0);
  st.out('late output\n');
  st.end();
  assert.deepEqual(connected.got, [[1, 'late output\n']]);
  assert.equal(connected.ended, 1);
  assert.equal(st.closed, true);
});
