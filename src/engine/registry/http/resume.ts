// A blob download that survives a dropped connection, as docker's: when the
// body breaks after some bytes, the rest is asked for with
// `Range: bytes=N-` and the stream goes on from there. Only a 206 whose
// Content-Range starts at N is taken; anything else (a registry that
// ignores Range, or breaks again too often) ends with the original error.
// The bytes are still checked whole by the verifier downstream.
import { Readable } from 'node:stream';
import { retryDelay, type RetryOptions } from './retry';
import { header, type HttpResponse } from './types';

// Bodies are read in flowing mode, paused only when the consumer is full:
// the transport tells a stalled server from a slow reader by that.
export function resumingBody(first: Readable, reopen: (offset: number) => Promise<HttpResponse>, opts: RetryOptions): Readable {
  let offset = 0;
  let resumes = 0;
  let body: Readable;
  const out = new Readable({
    read: () => void body.resume(),
    destroy: (err, cb) => {
      body.destroy();
      cb(err);
    },
  });
  const attach = (b: Readable) => {
    body = b;
    b.on('data', (c: Buffer) => {
      offset += c.length;
      if (!out.push(c)) b.pause();
    });
    b.on('end', () => out.push(null));
    b.once('error', (err) => void resume(err));
  };
  const resume = async (err: Error) => {
    if (out.destroyed) return;
    if (++resumes >= opts.attempts) return void out.destroy(err);
    await new Promise((r) => setTimeout(r, retryDelay(resumes - 1, opts)));
    const next = out.destroyed ? undefined : await reopen(offset).catch(() => undefined);
    if (next && !out.destroyed && next.status === 206 && rangeStart(header(next, 'content-range')) === offset) return attach(next.body);
    next?.body.destroy();
    out.destroy(err);
  };
  attach(first);
  return out;
}

// "bytes 1000-65535/65536" -> 1000.
function rangeStart(v: string | undefined): number | undefined {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(v?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
}
