// Progress stream rendering (docker's jsonmessage), with berth's speed.
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { displayStream, formatSpeed, JSONMessageDisplay, JSONMessageError, JSONStreamDecoder, progressString } from '../../../../src/cli/output/jsonmessage';

function sink(): Writable & { text: () => string } {
  let s = '';
  const w = new Writable({
    write(c, _e, cb) {
      s += c.toString();
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => s;
  return w;
}

const PULL = [
  { status: 'Pulling from library/busybox', id: 'latest' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'bbb' },
  { status: 'Downloading', progressDetail: { current: 1000000, total: 4000000 }, id: 'aaa' },
  { status: 'Downloading', progressDetail: { current: 3000000, total: 4000000 }, id: 'aaa' },
  { status: 'Download complete', progressDetail: {}, id: 'aaa' },
  { status: 'Extracting', progressDetail: { current: 4000000, total: 4000000 }, id: 'aaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'aaa' },
  { status: 'Already exists', progressDetail: {}, id: 'bbb' },
  { status: 'Digest: sha256:abc' },
  { status: 'Status: Downloaded newer image for busybox:latest' },
];

describe('progressString (docker JSONProgress.String)', () => {
  it('draws a bar on wide terminals and counts in go-units sizes', () => {
    assert.equal(progressString({ current: 1000000, total: 4000000 }), `[============>${' '.repeat(38)}]      1MB/4MB`);
    assert.equal(progressString({ current: 1234567, total: 3456789 }, 100), ' 1.235MB/3.457MB');
    assert.equal(progressString({ current: 5, total: 3 }, 100), '      5B');
    assert.equal(progressString({ current: 2048 }, 200), ' 2.048kB');
    assert.equal(progressString({}, 200), '');
    assert.equal(progressString({ current: 4, total: 4 }), `[${'='.repeat(50)}>]       4B/4B`);
    assert.equal(progressString({ current: 1, total: 2, units: 'layers' }, 100), '1/2 layers');
  });
});

describe('JSON message display', () => {
  it('prints plain status lines off a terminal, without progress updates', () => {
    const out = sink();
    const d = new JSONMessageDisplay(out);
    for (const m of PULL) d.handle(m);
    assert.equal(out.text(), [
      'latest: Pulling from library/busybox',
      'aaa: Pulling fs layer',
      'bbb: Pulling fs layer',
      'aaa: Download complete',
      'aaa: Pull complete',
      'bbb: Already exists',
      'Digest: sha256:abc',
      'Status: Downloaded newer image for busybox:latest',
      '',
    ].join('\n'));
  });

  it('rewrites one line per layer on a terminal, like docker, with the speed', () => {
    const out = sink();
    let t = 0;
    const d = new JSONMessageDisplay(out, { isTerminal: true, columns: 100, now: () => t });
    d.handle(PULL[0]);
    d.handle(PULL[1]);
    d.handle(PULL[2]);
    d.handle(PULL[3]);
    t = 1000;
    d.handle(PULL[4]);
    d.handle(PULL[5]);
    const E = '\x1b[';
    assert.equal(out.text(), [
      'latest: Pulling from library/busybox\n',
      // aaa: new line, up one, clear, write, down one
      `\n${E}1A${E}2K\raaa: Pulling fs layer \r${E}1B`,
      `\n${E}1A${E}2K\rbbb: Pulling fs layer \r${E}1B`,
      // aaa is two lines up now
      `${E}2A${E}2K\raaa: Downloading      1MB/4MB\r${E}2B`,
      `${E}2A${E}2K\raaa: Downloading      3MB/4MB 2MB/s\r${E}2B`,
      `${E}2A${E}2K\raaa: Download complete \r${E}2B`,
    ].join(''));
  });

  it('leaves the speed out when it would wrap the line', () => {
    const out = sink();
    let t = 0;
    const d = new JSONMessageDisplay(out, { isTerminal: true, columns: 30, now: () => t });
    d.handle({ status: 'Downloading', progressDetail: { current: 1, total: 100 }, id: 'x' });
    t = 1000;
    d.handle({ status: 'Downloading', progressDetail: { current: 50, total: 100 }, id: 'x' });
    assert.ok(!out.text().includes('/s'), out.text());
  });

  it('starts a new block of lines after a message without an id (pull -a)', () => {
    const out = sink();
    const d = new JSONMessageDisplay(out, { isTerminal: true, columns: 200 });
    d.handle({ status: 'Pulling fs layer', progressDetail: {}, id: 'a' });
    d.handle({ status: 'Status: done' });
    d.handle({ status: 'Pulling fs layer', progressDetail: {}, id: 'b' });
    assert.ok(out.text().endsWith(`Status: done\n\n\x1b[1A\x1b[2K\rb: Pulling fs layer \r\x1b[1B`), JSON.stringify(out.text()));
  });

  it('turns an error message into an error, and passes aux messages on', () => {
    const out = sink();
    const aux: unknown[] = [];
    const d = new JSONMessageDisplay(out, { onAux: (a) => aux.push(a) });
    d.handle({ status: 'v1: digest: sha256:x size: 1' });
    d.handle({ progressDetail: {}, aux: { Tag: 'v1' } } as any);
    assert.deepEqual(aux, [{ Tag: 'v1' }]);
    assert.equal(out.text(), 'v1: digest: sha256:x size: 1\n');
    assert.throws(() => d.handle({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }), (e: unknown) => e instanceof JSONMessageError && e.message === 'manifest unknown');
  });

  it('prints build-style stream messages as they are', () => {
    const out = sink();
    const d = new JSONMessageDisplay(out, { isTerminal: true });
    d.handle({ stream: 'Loaded image: busybox:latest\n' });
    assert.equal(out.text(), 'Loaded image: busybox:latest\n');
  });

  it('decodes concatenated and split JSON objects', async () => {
    const msgs: unknown[] = [];
    const dec = new JSONStreamDecoder();
    dec.push('{"status":"a"}{"status":"b', (m) => msgs.push(m));
    dec.push('"}\r\n  {"status":"with } and \\" inside"}\n', (m) => msgs.push(m));
    dec.end();
    assert.deepEqual(msgs, [{ status: 'a' }, { status: 'b' }, { status: 'with } and " inside' }]);
    const cut = new JSONStreamDecoder();
    cut.push('{"status":', () => {});
    assert.throws(() => cut.end(), /unexpected EOF/);

    const out = sink();
    await displayStream(Readable.from([Buffer.from('{"status":"x"}\r\n{"id":"1","status":"Waiting","progressDetail":{}}')]), out);
    assert.equal(out.text(), 'x\n1: Waiting\n');
  });

  it('formats speeds with go-units sizes', () => {
    assert.equal(formatSpeed(12345678), '12.3MB/s');
    assert.equal(formatSpeed(999), '999B/s');
  });
});
