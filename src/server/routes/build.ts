// POST /build: the classic builder's protocol (what the docker CLI speaks
// with DOCKER_BUILDKIT=0 or without buildx): the body is the context tar
// (plain or gzip), the answer a JSON message stream, `{"stream": "Step 1/5
// : FROM busybox\n"}`, ` ---> <id>` lines, the RUN output, `{"aux": {"ID":
// …}}` after each stage, "Successfully built/tagged", and a failure as
// `{"errorDetail": {"code": …, "message": …}, "error": …}` (the CLI exits
// with that code). Parallel stages are shown one after the other, in order.
// `berthevents=1` (berth's own CLI, not in the spec) adds each build event
// as an aux message, from which `berth build` draws BuildKit-style output;
// `berthcheck=1` with it runs `berth build --check` (engine/build/check.ts).
import type { ServerResponse } from 'node:http';
import { BuildError, StageOrder, type BuildEvent, type BuildOptions, type Builder } from '../../engine/build/builder';
import { decompressed } from '../../engine/images/service';
import { invalidArgument } from '../../errors';
import { hostPlatform } from '../../oci/platform';
import { parseReference } from '../../oci/reference';
import { extraHost } from '../containers/network';
import { boolParam } from '../http';
import type { Router } from '../router';

export interface BuildRouteBackend {
  builder: Pick<Builder, 'build' | 'check'>;
}

function jsonParam<T>(q: URLSearchParams, name: string, what: string): T | undefined {
  const v = q.get(name);
  if (!v) return undefined;
  try {
    return JSON.parse(v) as T;
  } catch (e) {
    throw invalidArgument(`error reading ${what}: ${(e as Error).message}`);
  }
}

// `X-Berth-Build-Secrets` (berth's own, for `berth build --secret`): a
// base64 JSON object of id → base64 value. A header, not a query
// parameter, so a secret never lands in a logged URL.
export const SECRETS_HEADER = 'x-berth-build-secrets';

export function secretsOf(header: string | string[] | undefined): Record<string, Buffer> | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) throw invalidArgument(`${SECRETS_HEADER} given more than once`);
  let j: unknown;
  try {
    j = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    throw invalidArgument(`${SECRETS_HEADER}: not base64 JSON`);
  }
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw invalidArgument(`${SECRETS_HEADER}: not an object`);
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(j as Record<string, unknown>)) {
    if (typeof v !== 'string' || k === '') throw invalidArgument(`${SECRETS_HEADER}: secret ${JSON.stringify(k)} is not a base64 string`);
    out[k] = Buffer.from(v, 'base64');
  }
  return out;
}

export function buildOptionsOf(q: URLSearchParams): BuildOptions {
  const tags = q.getAll('t').filter((t) => t !== '');
  for (const t of tags) parseReference(t);
  const buildArgs = jsonParam<Record<string, string | null>>(q, 'buildargs', 'build args') ?? {};
  const labels = jsonParam<Record<string, string>>(q, 'labels', 'labels') ?? {};
  const network = q.get('networkmode') || undefined;
  if (network?.startsWith('container:')) throw invalidArgument(`networkmode ${network} is not supported by the builder`);
  const forceRm = boolParam(q, 'forcerm');
  return {
    dockerfile: q.get('dockerfile') || 'Dockerfile',
    tags,
    buildArgs,
    labels,
    target: q.get('target') || undefined,
    noCache: boolParam(q, 'nocache'),
    network,
    extraHosts: q.getAll('extrahosts').filter(Boolean).map(extraHost),
    pull: boolParam(q, 'pull'),
    // dockerd: rm defaults to true; forcerm implies it.
    rm: forceRm || q.get('rm') === null || q.get('rm') === '' ? true : boolParam(q, 'rm'),
  };
}

// The response, started on the first write: until then an error still
// gets its own status.
class Reply {
  started = false;
  constructor(private res: ServerResponse) {}
  write(msg: unknown): void {
    if (!this.started) {
      this.started = true;
      this.res.writeHead(200, { 'Content-Type': 'application/json' });
    }
    this.res.write(JSON.stringify(msg) + '\r\n');
  }
  end(): void {
    if (!this.started) this.res.writeHead(200, { 'Content-Type': 'application/json' });
    this.started = true;
    this.res.end();
  }
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export function buildRoutes(r: Router, d: BuildRouteBackend): void {
  r.post('/build', async (ctx) => {
    const q = ctx.query;
    const o = buildOptionsOf(q);
    const secrets = secretsOf(ctx.req.headers[SECRETS_HEADER]);
    if (secrets) o.secrets = secrets;
    const platform = q.get('platform');
    if (platform) {
      const host = hostPlatform();
      if (platform !== `${host.os}/${host.architecture}` && platform !== host.os) throw invalidArgument(`platform ${platform}: berth builds for this host's platform (${host.os}/${host.architecture}) only`);
    }
    const quiet = boolParam(q, 'q');
    const events = q.get('berthevents') === '1';
    // berthcheck=1 (berth build --check): findings as events; berth's CLI only.
    const check = q.get('berthcheck') === '1';
    if (check && !events) throw invalidArgument('berthcheck needs berthevents=1');
    const reply = new Reply(ctx.res);
    // -q: the output is kept, and shown only if the build fails.
    const held: unknown[] = [];
    const send = (m: unknown) => (quiet ? held.push(m) : reply.write(m));
    const classic = (e: BuildEvent) => {
      switch (e.type) {
        case 'step':
          send({ stream: `Step ${e.step}/${e.total} : ${e.code}\n` });
          break;
        case 'stream':
          send({ stream: e.text });
          break;
        case 'output':
          send({ stream: e.data });
          break;
        case 'warning':
          send({ stream: e.text });
          break;
        case 'stageDone':
          send({ aux: { ID: e.image } });
          break;
      }
    };
    const order = new StageOrder(classic);
    const sink = (e: BuildEvent) => {
      if (events) reply.write({ aux: { berthBuild: e } });
      else order.push(e);
    };
    try {
      const body = await decompressed(ctx.req);
      const id = await (check ? d.builder.check(body, o, sink) : d.builder.build(body, o, sink));
      order.flush();
      if (check && !id) return reply.end(); // the build failed: its error is in the findings
      if (quiet) reply.write({ stream: `${id}\n` });
      else {
        reply.write({ stream: `Successfully built ${short(id)}\n` });
        for (const t of o.tags) reply.write({ stream: `Successfully tagged ${familiar(t)}\n` });
      }
      if (events) reply.write({ aux: { ID: id } });
      reply.end();
    } catch (err) {
      order.flush();
      if (!reply.started && !(err instanceof BuildError)) throw err;
      for (const m of held) reply.write(m);
      const message = err instanceof Error ? err.message : String(err);
      const code = err instanceof BuildError ? err.code : undefined;
      reply.write({ errorDetail: { ...(code !== undefined ? { code } : {}), message }, error: message });
      reply.end();
    }
  });
}

// "busybox" → "busybox:latest", as "Successfully tagged" prints it.
function familiar(t: string): string {
  const ref = parseReference(t);
  const s = t.replace(/^docker\.io\/(library\/)?/, '');
  return ref.tag || ref.digest ? s : `${s}:latest`;
}
