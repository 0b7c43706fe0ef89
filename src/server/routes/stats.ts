// GET /containers/{id}/stats and /top: a container's resource usage from its
// cgroup, and its processes as the host's ps lists them.
import type { ContainerStats } from '../../engine/stats/service';
import { invalidArgument } from '../../errors';
import { statsJSON, statsText, type PrevStats } from '../containers/stats';
import { boolParam, sendJSON } from '../http';
import type { Router } from '../router';

// What the stats routes need of the daemon.
export interface StatsBackend {
  stats: Pick<ContainerStats, 'sample' | 'top'>;
  // Between two samples of a stream; dockerd's is 1 s.
  intervalMs?: number;
  // Between the two samples a single answer (stream=false) is computed from,
  // so its CPU % is not 0. dockerd waits for two ticks of its 1 s collector
  // (1–2 s); berth's 0.5 s gives as true a CPU % and halves the wait of
  // `docker stats --no-stream`.
  windowMs?: number;
}

export function statsRoutes(r: Router, b: StatsBackend): void {
  const interval = b.intervalMs ?? 1000;
  const window = b.windowMs ?? 500;

  r.get('/containers/:id/stats', async (ctx) => {
    const q = ctx.query;
    const stream = boolParam(q, 'stream', true);
    // one-shot came with API 1.41.
    const oneShot = !olderThan(ctx.version, '1.41') && boolParam(q, 'one-shot');
    if (stream && oneShot) throw invalidArgument('cannot have stream=true and one-shot=true');
    const id = ctx.params.id;
    let { rec, sample } = await b.stats.sample(id);
    let prev: PrevStats | undefined;
    const next = () => {
      const out = statsJSON(rec, sample, prev);
      prev = sample.cgroup ? { cpu: out.cpu_stats!, read: out.read! } : undefined;
      return out;
    };
    if (!stream) {
      // A container not running gets zeros at once; otherwise a second
      // sample a moment later, so precpu_stats is filled.
      if (!oneShot && sample.cgroup) {
        next();
        await sleep(window);
        ({ rec, sample } = await b.stats.sample(rec.id));
      }
      const body = statsText(next());
      ctx.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      ctx.res.end(body);
      return;
    }
    const res = ctx.res;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    let closed = false;
    res.on('close', () => { closed = true; });
    for (;;) {
      res.write(statsText(next()) + '\n');
      await sleep(interval);
      if (closed) break;
      try {
        ({ rec, sample } = await b.stats.sample(rec.id));
      } catch {
        break; // removed
      }
    }
    res.end();
  });

  r.get('/containers/:id/top', async (ctx) => {
    const top = await b.stats.top(ctx.params.id, ctx.query.get('ps_args') ?? '');
    sendJSON(ctx.res, 200, { Titles: top.titles, Processes: top.processes });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function olderThan(v: string, than: string): boolean {
  const [a1, a2] = v.split('.').map(Number);
  const [b1, b2] = than.split('.').map(Number);
  return a1 !== b1 ? a1 < b1 : a2 < b2;
}
