// Image archives and container snapshots: save (/images/get), load,
// history, export and commit.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerSnapshots } from '../../engine/containers/commit';
import type { ContainerService } from '../../engine/containers/service';
import type { ImageService } from '../../engine/images/service';
import { noProgress } from '../../engine/events/progress';
import { boolParam, readJSON, sendJSON } from '../http';
import { translateCommit } from '../containers/commit';
import { JSONMessageStream } from '../progress';
import type { Ctx, Router } from '../router';

// What the archive routes need of the daemon.
export interface ArchiveBackend {
  archive: Pick<ImageService, 'save' | 'load' | 'history'>;
  snapshots: ContainerSnapshots;
  containers: Pick<ContainerService, 'get'>;
}

export function archiveRoutes(r: Router, b: ArchiveBackend): void {
  const { archive, snapshots } = b;

  // `docker save a b`: names=a&names=b (a name may also list several, comma-separated, as old clients did).
  r.get('/images/get', async (ctx) => {
    const names = ctx.query.getAll('names').flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean);
    await sendStream(ctx, await archive.save(names), 'application/x-tar');
  });

  r.get('/images/*name/get', async (ctx) => {
    await sendStream(ctx, await archive.save([ctx.params.name]), 'application/x-tar');
  });

  // Without quiet, big entries report "Loading layer" progress as they
  // arrive; an error after that travels in the stream, as docker's does.
  r.post('/images/load', async (ctx) => {
    const out = new JSONMessageStream(ctx.res);
    try {
      const result = await archive.load(ctx.req, boolParam(ctx.query, 'quiet') ? noProgress : out.sink);
      for (const m of result.messages) out.sink({ type: 'stream', text: `${m}\n` });
      out.end();
    } catch (err) {
      if (!out.headersSent) throw err;
      out.error(err);
    }
  });

  r.get('/images/*name/history', (ctx) => {
    sendJSON(ctx.res, 200, archive.history(ctx.params.name));
  });

  r.get('/containers/:id/export', async (ctx) => {
    await sendStream(ctx, await snapshots.export(ctx.params.id), 'application/x-tar');
  });

  r.post('/commit', async (ctx) => {
    const q = ctx.query;
    const body = await readJSON(ctx.req);
    const ref = q.get('container') ?? '';
    const o = translateCommit({
      repo: q.get('repo') || undefined,
      tag: q.get('tag') || undefined,
      comment: q.get('comment') || undefined,
      author: q.get('author') || undefined,
      changes: q.getAll('changes'),
    }, body, () => b.containers.get(ref));
    const rec = await snapshots.commit(ref, { ...o, pause: boolParam(q, 'pause', true) });
    sendJSON(ctx.res, 201, { Id: rec.id });
  });
}

// Streams a tar as the 200 body. A failure midway can only cut the body
// short (the client sees a truncated archive); a client that goes away
// stops the producer.
async function sendStream(ctx: Ctx, src: Readable, contentType: string): Promise<void> {
  const res: ServerResponse = ctx.res;
  res.writeHead(200, { 'Content-Type': contentType });
  try {
    await pipeline(src, res);
  } catch (err) {
    src.destroy();
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE') return; // the client left
    throw err; // logged; the body is cut short
  }
}
