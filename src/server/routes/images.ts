// /images/...: pull and import (create), list, inspect, tag, delete, prune,
// push, save (get), load, history, and /auth.
import type { ImageInspect, ImageSummary } from '../../api/types';
import type { ImageService } from '../../engine/images/service';
import { BerthError, invalidArgument } from '../../errors';
import { parsePlatform } from '../../oci/platform';
import { parseReference } from '../../oci/reference';
import type { ImageRecord } from '../../engine/images/types';
import { boolParam, filtersParam, readJSON, sendJSON, sendNoContent, sendStream, timestampValue } from '../http';
import { hasLabel } from '../../engine/images/service';
import { noProgress } from '../../engine/events/progress';
import { JSONMessageStream, registryAuth } from '../progress';
import { cmpVersion, type Router } from '../router';
import { linearRegExp } from '../../util/linear-regexp';

// What the image routes (and image lists elsewhere) need of the daemon.
export interface ImageBackend {
  images: ImageService;
  // How many containers use an image.
  containersUsing(imageId: string): number;
  // An image's layer dirs, for GraphDriver.
  lowers(chainID: string): string[];
}

export function imageRoutes(r: Router, d: ImageBackend): void {
  const is = d.images;

  r.post('/images/create', async (ctx) => {
    const q = ctx.query;
    const fromSrc = q.get('fromSrc');
    const fromImage = q.get('fromImage');
    if (fromSrc) {
      if (fromSrc !== '-') throw invalidArgument('importing from a URL is not supported; stream the archive with fromSrc=-');
      const rec = await is.import(ctx.req, { repo: q.get('repo') || undefined, tag: q.get('tag') || undefined, message: q.get('message') || undefined, changes: q.getAll('changes') });
      ctx.res.writeHead(200, { 'Content-Type': 'application/json' });
      ctx.res.end(JSON.stringify({ status: rec.id }) + '\r\n');
      return;
    }
    if (fromImage) {
      // The CLI sends the tag (or digest) separately; "tag" may be empty.
      const tag = q.get('tag');
      const name = tag ? (tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`) : fromImage;
      const auth = registryAuth(ctx.req);
      const platform = q.get('platform') ? parsePlatform(q.get('platform')) : undefined;
      const out = new JSONMessageStream(ctx.res);
      try {
        // As in dockerd, a bare name (the CLI's `pull -a`) pulls every tag.
        const ref = parseReference(name);
        await is.pull(name, { auth, platform, allTags: !ref.tag && !ref.digest, progress: out.sink });
        out.end();
      } catch (err) {
        if (!out.headersSent) throw err;
        out.error(err);
      }
      return;
    }
    throw invalidArgument('either fromSrc or fromImage is required');
  });

  r.get('/images/json', (ctx) => {
    const filters = filtersParam(ctx.query);
    for (const k of filters.keys()) {
      if (!['dangling', 'reference', 'label', 'before', 'since', 'until'].includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    }
    let list = is.list();
    const dangling = filters.get('dangling');
    if (dangling) list = list.filter((i) => (is.repoTags(i).length === 0) === (dangling[0] === 'true' || dangling[0] === '1'));
    // reference=PATTERN matches "name:tag" or the name alone (docker's
    // FamiliarMatch), and the image is listed with the matching names only.
    const refs = filters.get('reference')?.map(globRegExp);
    const matches = (re: RegExp | undefined, s: string) => !!re && re.test(s);
    const named = refs && ((r: string, sep: string) => refs.some((re) => matches(re, r) || matches(re, r.slice(0, r.lastIndexOf(sep)))));
    if (named) list = list.filter((i) => is.repoTags(i).some((t) => named(t, ':')) || is.repoDigests(i).some((r) => named(r, '@')));
    for (const [key, keep] of [['before', (t: number, ref: number) => t < ref], ['since', (t: number, ref: number) => t > ref]] as const) {
      const v = filters.get(key)?.[0];
      if (!v) continue;
      const refTime = createdMs(is.resolve(v));
      list = list.filter((i) => keep(createdMs(i), refTime));
    }
    const labels = filters.get('label');
    if (labels) list = list.filter((i) => labels.every((l) => hasLabel(i.config.config?.Labels ?? {}, l)));
    const until = filters.get('until')?.[0];
    if (until !== undefined) {
      const t = timestampValue(until, 'until') * 1000;
      list = list.filter((i) => createdMs(i) < t);
    }
    list.sort((a, b) => created(b) - created(a));
    const shared = boolParam(ctx.query, 'shared-size') ? is.diskUsage().sharedSize : undefined;
    sendJSON(ctx.res, 200, list.map((i) => {
      const s = imageSummary(d, i, shared ? shared.get(i.id) ?? 0 : -1);
      return named ? { ...s, RepoTags: s.RepoTags.filter((t) => named(t, ':')), RepoDigests: s.RepoDigests.filter((r) => named(r, '@')) } : s;
    }));
  });

  r.post('/images/*name/push', async (ctx) => {
    const tag = ctx.query.get('tag');
    const name = tag ? `${ctx.params.name}:${tag}` : ctx.params.name;
    const auth = registryAuth(ctx.req);
    const out = new JSONMessageStream(ctx.res);
    try {
      await is.push(name, { auth, progress: out.sink });
      out.end();
    } catch (err) {
      if (!out.headersSent) throw err;
      out.error(err);
    }
  });

  r.post('/auth', async (ctx) => {
    const body = (await readJSON(ctx.req)) ?? {};
    const server = typeof body.serveraddress === 'string' && body.serveraddress ? body.serveraddress : 'docker.io';
    const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '').replace(/^index\.docker\.io$/, 'docker.io');
    try {
      await is.login(host, {
        username: typeof body.username === 'string' ? body.username : undefined,
        password: typeof body.password === 'string' ? body.password : undefined,
        identitytoken: typeof body.identitytoken === 'string' && body.identitytoken ? body.identitytoken : undefined,
      });
    } catch (err) {
      // The spec lists 401 and 500 for /auth, and dockerd answers a registry
      // it cannot reach (or that fails otherwise) with 500 and what went wrong.
      if (err instanceof BerthError && !['InvalidArgument', 'Unauthorized'].includes(err.kind)) throw new BerthError('Internal', err.message, { cause: err });
      throw err;
    }
    sendJSON(ctx.res, 200, { Status: 'Login Succeeded', IdentityToken: '' });
  });

  r.post('/images/prune', async (ctx) => {
    const filters = filtersParam(ctx.query);
    for (const k of filters.keys()) if (!['dangling', 'label', 'label!', 'until'].includes(k)) throw invalidArgument(`invalid filter '${k}'`);
    const dangling = filters.get('dangling')?.[0];
    const all = dangling !== undefined && ['false', '0'].includes(dangling.toLowerCase());
    const untilRaw = filters.get('until')?.[0];
    const until = untilRaw === undefined ? undefined : timestampValue(untilRaw, 'until');
    const { deleted, reclaimed } = await is.prune({ all, until, labels: filters.get('label'), notLabels: filters.get('label!') });
    sendJSON(ctx.res, 200, { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });

  r.get('/images/*name/json', (ctx) => {
    const i = is.resolve(ctx.params.name);
    const out: Record<string, unknown> = { ...inspectImage(d, i) };
    // Container and ContainerConfig left the spec in 1.45. docker-compose
    // 1.29 negotiates the server's newest version yet reads
    // ContainerConfig.Volumes on recreate (a KeyError without it), so
    // docker-py clients get them at any version.
    if (cmpVersion(ctx.version, '1.45') < 0 || /\bdocker-py\//.test(ctx.req.headers['user-agent'] ?? '')) {
      out.Container = '';
      out.ContainerConfig = { ...EMPTY_RUN_CONFIG, ...(i.config.container_config ?? {}) };
    }
    sendJSON(ctx.res, 200, out);
  });

  r.post('/images/*name/tag', async (ctx) => {
    const repo = ctx.query.get('repo');
    if (!repo) throw invalidArgument('repository name is required');
    await is.tag(ctx.params.name, repo, ctx.query.get('tag') || undefined);
    sendNoContent(ctx.res, 201);
  });

  r.delete('/images/*name', async (ctx) => {
    const out = await is.remove(ctx.params.name, boolParam(ctx.query, 'force'));
    sendJSON(ctx.res, 200, out);
  });

  // `docker save a b`: names=a&names=b (a name may also list several, comma-separated, as old clients did).
  r.get('/images/get', async (ctx) => {
    const names = ctx.query.getAll('names').flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean);
    await sendStream(ctx.res, await is.save(names), 'application/x-tar');
  });

  r.get('/images/*name/get', async (ctx) => {
    await sendStream(ctx.res, await is.save([ctx.params.name]), 'application/x-tar');
  });

  // Without quiet, big entries report "Loading layer" progress as they
  // arrive; an error after that travels in the stream, as docker's does.
  r.post('/images/load', async (ctx) => {
    const out = new JSONMessageStream(ctx.res);
    try {
      const result = await is.load(ctx.req, boolParam(ctx.query, 'quiet') ? noProgress : out.sink);
      for (const m of result.messages) out.sink({ type: 'stream', text: `${m}\n` });
      out.end();
    } catch (err) {
      if (!out.headersSent) throw err;
      out.error(err);
    }
  });

  r.get('/images/*name/history', (ctx) => {
    sendJSON(ctx.res, 200, is.history(ctx.params.name));
  });
}

// An image as lists show it. SharedSize (bytes of its layers that other
// images use too) is computed only for /system/df, as in docker.
// VirtualSize left the spec in 1.44; clients of older versions still read it.
export function imageSummary(d: ImageBackend, i: ImageRecord, sharedSize = -1): ImageSummary & { VirtualSize: number } {
  return {
    Id: i.id,
    ParentId: '',
    RepoTags: d.images.repoTags(i),
    RepoDigests: d.images.repoDigests(i),
    Created: created(i),
    Size: i.size,
    SharedSize: sharedSize,
    VirtualSize: i.size,
    Labels: i.config.config?.Labels ?? {},
    Containers: d.containersUsing(i.id),
  };
}

function createdMs(i: ImageRecord): number {
  return Date.parse(i.config.created ?? '1970-01-01T00:00:00Z');
}

function created(i: ImageRecord): number {
  return Math.floor(Date.parse(i.config.created ?? '1970-01-01T00:00:00Z') / 1000);
}

// A reference filter is a path.Match glob ("*" and "?" stop at "/"), run in
// the linear engine: "*" runs as [^/]*, which backtracks polynomially in a
// backtracking engine on patterns with many stars.
function globRegExp(pattern: string): RegExp | undefined {
  return linearRegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
}

const EMPTY_RUN_CONFIG = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
  Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null,
  WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
};

export function inspectImage(d: ImageBackend, i: ImageRecord): ImageInspect & { VirtualSize: number } {
  return {
    Id: i.id,
    RepoTags: d.images.repoTags(i),
    RepoDigests: d.images.repoDigests(i),
    Parent: '',
    Comment: i.config.comment ?? '',
    Created: i.config.created ?? '',
    DockerVersion: '',
    Author: i.config.author ?? '',
    Config: {
      ...EMPTY_RUN_CONFIG,
      ...(i.config.config ?? {}),
    } as ImageInspect['Config'],
    Architecture: i.config.architecture,
    Variant: i.config.variant,
    Os: i.config.os,
    Size: i.size,
    VirtualSize: i.size,
    GraphDriver: {
      Name: 'overlay2',
      Data: i.chainID ? { LowerDir: d.lowers(i.chainID).join(':') } : {},
    },
    RootFS: { Type: 'layers', Layers: i.config.rootfs.diff_ids },
    Metadata: { LastTagTime: i.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
}
