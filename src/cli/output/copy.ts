// Streams a response body to our stdout.
import type { Readable, Writable } from 'node:stream';

// Copies a response body to stdout (which stays open), waiting for drains.
export async function copyToOut(src: Readable, out: Writable): Promise<void> {
  for await (const chunk of src) {
    if (!out.write(chunk)) await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        out.off('drain', onDrain);
        out.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      out.once('drain', onDrain);
      out.once('error', done);
    });
  }
}
