// berth system df: docker's disk usage summary (and -v, the tables behind it).
import type { ContainerSummary, SystemDataUsageResponse as DiskUsage } from '../../../api/types';
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { familiarName, humanSize, splitReference } from '../../output/format';
import { CONTAINER_HEADER, containerContext, formatWrite, headerContext, IMAGE_HEADER, imageContext, TABLE_FORMAT } from '../../output/formatter';
import { goJSON, GoStruct } from '../../output/template';
import { CONTAINER_FIELDS } from '../container/list';
import { volumeContext } from '../volume/list';

const SUMMARY_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const SUMMARY_HEADER = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };
const IMAGES_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const CONTAINERS_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const VOLUMES_TABLE = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const BUILD_CACHE_TABLE = 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';

// "1.2MB (45%)", or the size alone when there is nothing at all (docker's
// integer percentage).
function reclaimable(bytes: number, total: number): string {
  return total > 0 ? `${humanSize(bytes, 4)} (${Math.trunc((bytes * 100) / total)}%)` : humanSize(bytes, 4);
}

function summaryRow(type: string, total: number, active: number, size: number, reclaim: string): GoStruct {
  return new GoStruct('*formatter.diskUsageContext', {
    Type: () => type,
    TotalCount: () => String(total),
    Active: () => String(active),
    Size: () => humanSize(size, 4),
    Reclaimable: () => reclaim,
  });
}

function summaryRows(du: DiskUsage): GoStruct[] {
  const images = du.Images ?? [];
  const layers = du.LayersSize ?? 0;
  const used = images.filter((i) => i.Containers && i.Size !== -1 && i.SharedSize !== -1).reduce((n, i) => n + (i.Size ?? 0) - (i.SharedSize ?? 0), 0);
  const containers = du.Containers ?? [];
  const active = (c: ContainerSummary) => ['running', 'paused', 'restarting'].includes(c.State ?? '');
  const rw = (list: ContainerSummary[]) => list.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const volumes = du.Volumes ?? [];
  const volSize = (list: typeof volumes) => list.reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const cache = (du.BuildCache ?? []).filter((b) => !b.Shared);
  const cacheSize = (list: typeof cache) => list.reduce((n, b) => n + (b.Size ?? 0), 0);
  return [
    summaryRow('Images', images.length, images.filter((i) => i.Containers).length, layers, reclaimable(layers - used, layers)),
    summaryRow('Containers', containers.length, containers.filter(active).length, rw(containers), reclaimable(rw(containers.filter((c) => !active(c))), rw(containers))),
    summaryRow('Local Volumes', volumes.length, volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length, volSize(volumes), reclaimable(volSize(volumes.filter((v) => !v.UsageData?.RefCount)), volSize(volumes))),
    summaryRow('Build Cache', (du.BuildCache ?? []).length, (du.BuildCache ?? []).filter((b) => b.InUse).length, cacheSize(cache), reclaimable(cacheSize(cache.filter((b) => !b.InUse)), cacheSize(cache))),
  ];
}

// The rows of docker's verbose output: images by their first tag, and
// containers without their virtual size.
function verboseRows(du: DiskUsage, trunc: boolean) {
  return {
    images: (du.Images ?? []).map((i) => {
      const first = (i.RepoTags ?? []).find((t) => t !== '<none>:<none>');
      const ref = first ? splitReference(first) : undefined;
      return imageContext({ repo: ref ? familiarName(ref.name) : '<none>', tag: ref?.tag || '<none>', digest: '', image: i }, trunc);
    }),
    containers: (du.Containers ?? []).map((c) => containerContext({ ...c, SizeRootFs: 0 }, trunc, CONTAINER_FIELDS)),
    // docker's volume list context, every column.
    volumes: (du.Volumes ?? []).map(volumeContext),
  };
}

// -v --format json: one object, untruncated, as docker prints it.
function verboseJSON(du: DiskUsage): string {
  const { images, containers, volumes } = verboseRows(du, false);
  return `{"Images":${goJSON(images)},"Containers":${goJSON(containers)},"Volumes":${goJSON(volumes)},"BuildCache":[]}`; // no newline, as docker
}

// docker's verbose layout: one table per kind.
function verbose(du: DiskUsage): string {
  const { images: imageRows, containers, volumes } = verboseRows(du, true);
  const cacheSize = (du.BuildCache ?? []).filter((b) => !b.Shared).reduce((n, b) => n + (b.Size ?? 0), 0);
  const cacheHeader = { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' };
  return [
    'Images space usage:\n\n',
    formatWrite(IMAGES_TABLE, headerContext(IMAGE_HEADER), imageRows),
    '\nContainers space usage:\n\n',
    formatWrite(CONTAINERS_TABLE, headerContext(CONTAINER_HEADER), containers),
    '\nLocal Volumes space usage:\n\n',
    formatWrite(VOLUMES_TABLE, headerContext({ Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' }), volumes),
    `\nBuild cache usage: ${humanSize(cacheSize, 4)}\n\n`,
    formatWrite(BUILD_CACHE_TABLE, headerContext(cacheHeader), []),
  ].join('');
}

export const dfCommand: Command = {
  name: 'df',
  usage: '[OPTIONS]',
  summary: 'Show berth disk usage',
  maxArgs: 0,
  flags: [
    { name: 'format', type: 'string', desc: "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template." },
    { name: 'verbose', short: 'v', type: 'bool', desc: 'Show detailed information on space usage' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const format = (p.flags.format as string | undefined) || TABLE_FORMAT;
    if (p.flags.verbose && format !== TABLE_FORMAT && format !== 'json') throw new StatusError(1, 'the verbose flag takes only the table or json format');
    const du = await ctx.client().get<DiskUsage>('/system/df');
    if (p.flags.verbose) ctx.out.write(format === 'json' ? verboseJSON(du) : verbose(du));
    else ctx.out.write(formatWrite(format === TABLE_FORMAT ? SUMMARY_TABLE : format, headerContext(SUMMARY_HEADER), summaryRows(du)));
    return 0;
  },
};
