import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassThrough, Readable, Writable } from 'node:stream';
import { demux, frame, StdcopyParser, STDERR, STDOUT, SYSTEMERR } from '../../../src/client/stdcopy';

function sink(): Writable & { data: () => Buffer } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(c, _e, cb) {
      chunks.push(Buffer.from(c));
      cb();
    },
  }) as Writable & { data: () => Buffer };
  w.data = () => Buffer.concat(chunks);
  return w;
}

describe('StdcopyParser', () => {
  it('splits frames by stream', () => {
    const p = new StdcopyParser();
    const frames = p.push(Buffer.concat([frame(STDOUT, 'out\n'), frame(STDERR, 'err\n'), frame(STDOUT, '')]));
    assert.deepEqual(frames.map((f) => [f.stream, f.data.toString()]), [
      [1, 'out\n'],
      [2, 'err\n'],
    ]);
    assert.ok(p.idle);
  });

  it('handles headers and payloads split at every byte', () => {
    const input = Buffer.concat([frame(STDOUT, 'hello '), frame(STDERR, 'warn'), frame(STDOUT, 'world')]);
    const p = new StdcopyParser();
    let out = '';
    let err = '';
    for (let i = 0; i < input.length; i++) {
      for (const f of p.push(input.subarray(i, i + 1))) {
        if (f.stream === STDOUT) out += f.data.toString();
        else err += f.data.toString();
      }
      if (i === 3) assert.ok(!p.idle);
    }
    assert.equal(out, 'hello world');
    assert.equal(err, 'warn');
    assert.ok(p.idle);
  });

  it('rejects an unknown stream type', () => {
    const bad = frame(STDOUT, 'x');
    bad[0] = 7;
    assert.throws(() => new StdcopyParser().push(bad), /Unrecognized input header: 7/);
  });
});

describe('demux', () => {
  it('copies binary payloads byte-exact to the right writers', async () => {
    const bin = Buffer.from(Array.from({ length: 70000 }, (_, i) => i % 256));
    const src = Readable.from([Buffer.concat([frame(STDOUT, bin.subarray(0, 40000)), frame(STDERR, 'e')]).subarray(0, 30000), Buffer.concat([frame(STDOUT, bin.subarray(0, 40000)), frame(STDERR, 'e')]).subarray(30000), frame(STDOUT, bin.subarray(40000))]);
    const out = sink();
    const err = sink();
    await demux(src, out, err);
    assert.ok(out.data().equals(bin));
    assert.equal(err.data().toString(), 'e');
  });

  it('waits for a slow writer (backpressure)', async () => {
    const src = new PassThrough();
    let written = 0;
    const slow = new Writable({
      highWaterMark: 4,
      write(c, _e, cb) {
        written += c.length;
        setTimeout(cb, 1);
      },
    });
    const done = demux(src, slow, sink());
    for (let i = 0; i < 20; i++) src.write(frame(STDOUT, 'abcdefgh'));
    src.end();
    await done;
    assert.equal(written, 160);
  });

  it('turns a system error frame into an error', async () => {
    const src = Readable.from([frame(STDOUT, 'partial'), frame(SYSTEMERR, 'something broke')]);
    await assert.rejects(demux(src, sink(), sink()), /something broke/);
  });
});
