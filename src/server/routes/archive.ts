// /containers/{id}/archive (`docker cp`: HEAD stat, GET a tar, PUT a tar)
// and /containers/{id}/changes (`docker diff`). The engine's stat becomes
// Docker's X-Docker-Container-Path-Stat header (base64 JSON, the mode in
// Go's FileMode bits); its change kinds become Docker's numbers.
import type { ContainerArchives, PathStat } from '../../engine/containers/archive';
import { pathStatHeader } from '../../engine/layers/inroot';
import { boolParam, sendJSON, sendStream } from '../http';
import type { Router } from '../router';

// What the archive routes need of the daemon.
export interface ArchiveBackend {
  archives: Pick<ContainerArchives, 'stat' | 'get' | 'put' | 'changes'>;
}

const STAT_HEADER = 'X-Docker-Container-Path-Stat';
const KIND = { modified: 0, added: 1, deleted: 2 } as const;

const statHeader = (s: PathStat): string => pathStatHeader({ name: s.name, size: s.size, mode: s.mode, mtime: s.mtime, linkTarget: s.linkTarget });

export function archiveRoutes(r: Router, b: ArchiveBackend): void {
  r.head('/containers/:id/archive', async (ctx) => {
    const st = await b.archives.stat(ctx.params.id, ctx.query.get('path') ?? '');
    ctx.res.writeHead(200, { [STAT_HEADER]: statHeader(st), 'Content-Type': 'application/json' });
    ctx.res.end();
  });

  r.get('/containers/:id/archive', async (ctx) => {
    const { stat, tar } = await b.archives.get(ctx.params.id, ctx.query.get('path') ?? '');
    ctx.res.setHeader(STAT_HEADER, statHeader(stat));
    await sendStream(ctx.res, tar, 'application/x-tar');
  });

  r.put('/containers/:id/archive', async (ctx) => {
    try {
      await b.archives.put(ctx.params.id, ctx.query.get('path') ?? '', ctx.req, {
        noOverwriteDirNonDir: boolParam(ctx.query, 'noOverwriteDirNonDir'),
        copyUIDGID: boolParam(ctx.query, 'copyUIDGID'),
      });
    } catch (err) {
      // Refused before the upload was read: let the client finish sending
      // it, so it reads the answer instead of a broken pipe.
      if (!ctx.req.complete && !ctx.req.destroyed) ctx.req.resume();
      throw err;
    }
    ctx.res.writeHead(200);
    ctx.res.end();
  });

  r.get('/containers/:id/changes', async (ctx) => {
    const changes = await b.archives.changes(ctx.params.id);
    sendJSON(ctx.res, 200, changes.map((c) => ({ Path: c.path, Kind: KIND[c.kind] })));
  });
}
