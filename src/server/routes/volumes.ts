// /volumes/...: list, create, inspect, remove, prune, in Docker's shapes.
import type { Volume } from '../../api/types';
import { invalidArgument } from '../../errors';
import { ANONYMOUS_LABEL, type LocalVolumes, type VolumeRecord } from '../../engine/volumes/local';
import { hasLabel } from '../../engine/images/service';
import { linearRegExp } from '../../util/linear-regexp';
import { checkType } from '../compat/fields';
import { filtersParam, readJSON, sendJSON, sendNoContent } from '../http';
import type { Router } from '../router';

export interface VolumeBackend {
  volumes: Pick<LocalVolumes, 'create' | 'get' | 'list' | 'remove' | 'prune' | 'usage' | 'mountpoint' | 'usersOf'>;
}

export function volumeView(b: VolumeBackend, v: VolumeRecord, usage?: { size: number; refCount: number }): Volume {
  return {
    CreatedAt: v.createdAt,
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: b.volumes.mountpoint(v.name),
    Name: v.name,
    Options: v.options,
    Scope: 'local',
    ...(usage ? { UsageData: { Size: usage.size, RefCount: usage.refCount } } : {}),
  };
}

// "1.41" < "1.42"
const atLeast = (v: string, want: string): boolean => {
  const [a, b] = v.split('.').map(Number);
  const [c, d] = want.split('.').map(Number);
  return a > c || (a === c && b >= d);
};

function boolFilter(key: string, v: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalidArgument(`invalid filter '${key}=${v}'`);
}

export function volumeRoutes(r: Router, b: VolumeBackend): void {
  const vs = b.volumes;

  r.get('/volumes', async (ctx) => {
    const f = filtersParam(ctx.query);
    for (const k of f.keys()) if (!['dangling', 'name', 'label', 'driver'].includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    const dangling = f.get('dangling')?.map((v) => boolFilter('dangling', v));
    const list = vs.list().filter((v) => {
      if (dangling && dangling.length && !dangling.some((want) => (vs.usersOf(v.name).length === 0) === want)) return false;
      const names = f.get('name');
      if (names && !names.some((n) => linearRegExp(n)?.test(v.name))) return false;
      const drivers = f.get('driver');
      if (drivers && !drivers.includes(v.driver)) return false;
      return (f.get('label') ?? []).every((l) => hasLabel(v.labels, l));
    });
    sendJSON(ctx.res, 200, { Volumes: list.map((v) => volumeView(b, v)), Warnings: null });
  });

  r.post('/volumes/create', async (ctx) => {
    const body = (await readJSON(ctx.req)) ?? {};
    checkType('Name', body.Name, 'string');
    checkType('Driver', body.Driver, 'string');
    checkType('DriverOpts', body.DriverOpts, 'stringmap');
    checkType('Labels', body.Labels, 'stringmap');
    if (body.ClusterVolumeSpec !== undefined && body.ClusterVolumeSpec !== null) throw invalidArgument('ClusterVolumeSpec is not supported: berth has no swarm');
    const v = await vs.create({
      name: (body.Name as string) || undefined,
      driver: (body.Driver as string) || undefined,
      options: (body.DriverOpts as Record<string, string>) ?? {},
      labels: (body.Labels as Record<string, string>) ?? {},
    });
    sendJSON(ctx.res, 201, volumeView(b, v));
  });

  r.get('/volumes/:name', async (ctx) => {
    sendJSON(ctx.res, 200, volumeView(b, vs.get(ctx.params.name)));
  });

  r.delete('/volumes/:name', async (ctx) => {
    const force = ['1', 'true'].includes(ctx.query.get('force') ?? '');
    await vs.remove(ctx.params.name, { force });
    sendNoContent(ctx.res);
  });

  // Volumes no container uses. From API 1.42 only anonymous ones, unless
  // all=true, as dockerd.
  r.post('/volumes/prune', async (ctx) => {
    const f = filtersParam(ctx.query);
    for (const k of f.keys()) if (!['label', 'label!', 'all'].includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    const all = (f.get('all') ?? []).some((v) => boolFilter('all', v)) || !atLeast(ctx.version, '1.42');
    const labels = f.get('label') ?? [];
    const notLabels = f.get('label!') ?? [];
    const out = await vs.prune((v) =>
      (all || ANONYMOUS_LABEL in v.labels) && labels.every((l) => hasLabel(v.labels, l)) && !notLabels.some((l) => hasLabel(v.labels, l)));
    sendJSON(ctx.res, 200, { VolumesDeleted: out.names.length ? out.names : null, SpaceReclaimed: out.reclaimed });
  });
}
