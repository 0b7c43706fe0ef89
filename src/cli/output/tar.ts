// A tar from the daemon (save, export) to -o FILE, atomically, or to
// stdout, which must not be a terminal.
import type { Readable } from 'node:stream';
import { StatusError, type Context } from '../command';
import { isTTY } from '../io';
import { AtomicFile } from './atomic-file';
import { copyToOut } from './copy';

const REFUSE_TERMINAL = 'cowardly refusing to save to a terminal. Use the -o flag or redirect';

// Streams a tar response to -o FILE (atomically) or to stdout (never a terminal).
export async function writeTar(ctx: Context, output: string | undefined, what: string, get: () => Promise<Readable>): Promise<void> {
  // A body cut short by the daemon is an error, as in Go's io.Copy.
  const cut = (e: unknown) => {
    const err = e as NodeJS.ErrnoException;
    return err?.code === 'ECONNRESET' || err?.message === 'aborted' ? new Error('unexpected EOF') : e;
  };
  if (!output) {
    if (isTTY(ctx.out)) throw new StatusError(1, REFUSE_TERMINAL);
    const body = await get();
    await copyToOut(body, ctx.out).catch((e) => {
      throw cut(e);
    });
    return;
  }
  const file = AtomicFile.create(output, what);
  let body: Readable;
  try {
    body = await get();
  } catch (e) {
    file.abort();
    throw e;
  }
  await file.fill(body).catch((e) => {
    throw cut(e);
  });
}
