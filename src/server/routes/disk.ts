// `docker system df` (GET /system/df) and the build cache's prune (POST
// /build/prune, which `docker system prune` calls): what images,
// containers, volumes and the build cache hold on disk. No builder keeps a
// cache yet, so its list is empty and its prune reclaims nothing.
import { invalidArgument } from '../../errors';
import type { ContainerService } from '../../engine/containers/service';
import { containerSummary, type ContainerViewDeps } from '../containers/inspect';
import { sendJSON } from '../http';
import type { Router } from '../router';
import { imageSummary, type ImageBackend } from './images';
import { volumeView, type VolumeBackend } from './volumes';

const DF_TYPES = ['container', 'image', 'volume', 'build-cache'];

export interface DiskBackend {
  containers: Pick<ContainerService, 'list'>;
  containerView: ContainerViewDeps;
  images: ImageBackend;
  volumes: VolumeBackend;
}

export function diskRoutes(r: Router, d: DiskBackend): void {
  r.get('/system/df', async (ctx) => {
    const types = ctx.query.getAll('type');
    for (const t of types) if (!DF_TYPES.includes(t)) throw invalidArgument(`unknown type: ${t}`);
    const want = (t: string) => types.length === 0 || types.includes(t);
    const out: Record<string, unknown> = {};
    if (want('image')) {
      const { layersSize, sharedSize } = d.images.images.diskUsage();
      out.LayersSize = layersSize;
      out.Images = d.images.images.list().map((i) => imageSummary(d.images, i, sharedSize.get(i.id) ?? 0));
    }
    if (want('container')) out.Containers = await Promise.all(d.containers.list().map((c) => containerSummary(d.containerView, c, true)));
    if (want('volume')) {
      const vs = d.volumes.volumes;
      out.Volumes = await Promise.all(vs.list().map(async (v) => volumeView(d.volumes, v, await vs.usage(v.name))));
    }
    if (want('build-cache')) out.BuildCache = [];
    sendJSON(ctx.res, 200, out);
  });

  r.post('/build/prune', async (ctx) => {
    sendJSON(ctx.res, 200, { CachesDeleted: null, SpaceReclaimed: 0 });
  });
}
