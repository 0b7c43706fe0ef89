// What berth does with each query parameter the Engine API spec defines, for
// every route berth serves (keyed as the spec names the route). The router
// enforces it in one place: a refused parameter sent with a value other than
// empty/zero/false is answered 400 naming it (clients send defaults, so those
// pass). Parameters the spec does not define are ignored, as dockerd does.
// A unit test keeps this table and the spec in step.

export type QueryRule =
  | { use: 'applied'; note?: string }
  // `when`: refused only for requests it returns true for (a parameter that
  // works in one mode of a route and not in another).
  | { use: 'refused'; reason: string; when?: (q: URLSearchParams) => boolean }
  | { use: 'ignored'; reason: string };

const applied: QueryRule = { use: 'applied' };
const refused = (reason: string, when?: (q: URLSearchParams) => boolean): QueryRule => ({ use: 'refused', reason, when });
const ignored = (reason: string): QueryRule => ({ use: 'ignored', reason });

const PLATFORM = 'berth keeps one platform per image and does not select among platforms yet';

export const QUERY: Record<string, Record<string, QueryRule>> = {
  // system
  'GET /_ping': {},
  'HEAD /_ping': {},
  'GET /version': {},
  'GET /info': {},
  'POST /auth': {},
  'GET /system/df': { type: applied },
  'GET /events': {
    since: applied,
    until: applied,
    filters: { use: 'applied', note: 'type, event, container, image, label, daemon, network, volume, scope; others are refused' },
  },

  // containers
  'GET /containers/json': { all: applied, limit: applied, size: applied, filters: applied },
  'POST /containers/create': { name: applied, platform: refused('containers run images of the host platform only') },
  'GET /containers/{id}/json': { size: applied },
  'POST /containers/{id}/start': { detachKeys: ignored('start does not attach: dockerd ignores it too, and the docker CLI sends its detach keys with the attach (run -it, start -ai)') },
  'POST /containers/{id}/stop': { signal: applied, t: applied },
  'POST /containers/{id}/restart': { signal: applied, t: applied },
  'POST /containers/{id}/kill': { signal: applied },
  'DELETE /containers/{id}': {
    force: applied,
    v: ignored('berth creates no anonymous volumes, so there are none to remove'),
    link: refused('berth has no container links; removing a link would remove the container itself'),
  },
  'POST /containers/{id}/wait': { condition: applied },
  'GET /containers/{id}/logs': { follow: applied, stdout: applied, stderr: applied, since: applied, until: applied, timestamps: applied, tail: applied },
  'POST /containers/{id}/attach': {
    detachKeys: { use: 'applied', note: 'a TTY client detaches with it (default ctrl-p,ctrl-q), as in dockerd' },
    logs: applied,
    stream: applied,
    stdin: applied,
    stdout: applied,
    stderr: applied,
  },
  'GET /containers/{id}/export': {},
  'POST /containers/{id}/exec': {},
  'POST /exec/{id}/start': {},
  'POST /exec/{id}/resize': {
    h: { use: 'applied', note: 'without a TTY the answer is 200 and nothing changes, as in dockerd' },
    w: applied,
  },
  'GET /exec/{id}/json': {},
  'POST /containers/{id}/resize': { h: applied, w: applied },
  'GET /containers/{id}/archive': { path: applied },
  'HEAD /containers/{id}/archive': { path: applied },
  'PUT /containers/{id}/archive': { path: applied, noOverwriteDirNonDir: applied, copyUIDGID: applied },
  'GET /containers/{id}/changes': {},
  'POST /containers/{id}/pause': {},
  'POST /containers/{id}/unpause': {},
  'POST /containers/{id}/rename': { name: applied },
  'GET /containers/{id}/top': { ps_args: { use: 'applied', note: "the host's ps (procps) runs with them; only the container's processes are kept" } },
  'GET /containers/{id}/stats': {
    stream: applied,
    'one-shot': applied,
  },
  'POST /containers/prune': { filters: applied },
  'POST /commit': {
    container: applied,
    repo: applied,
    tag: applied,
    comment: applied,
    author: applied,
    changes: applied,
    // Absent, it means pause (as dockerd).
    pause: { use: 'applied', note: 'a running container is frozen while its layer is read; the default' },
  },

  // images
  'GET /images/json': {
    all: ignored('berth keeps no intermediate images, so the list is the same either way'),
    filters: applied,
    'shared-size': applied,
    digests: ignored('RepoDigests are always included, as dockerd does'),
    manifests: refused('the per-platform Manifests field is not produced yet'),
  },
  'POST /images/create': {
    fromImage: applied,
    fromSrc: applied,
    repo: applied,
    tag: applied,
    message: applied,
    changes: applied,
    platform: refused('pulls apply it; an import takes the host platform and setting another is not supported yet', (q) => !!q.get('fromSrc')),
  },
  'GET /images/{name}/json': { manifests: refused('the per-platform Manifests field is not produced yet') },
  'GET /images/{name}/history': { platform: refused(PLATFORM) },
  'POST /images/{name}/push': { tag: applied, platform: refused(PLATFORM) },
  'POST /images/{name}/tag': { repo: applied, tag: applied },
  'DELETE /images/{name}': {
    force: applied,
    noprune: ignored('berth images have no parent chain, so there are no untagged parents to keep'),
    platforms: refused(PLATFORM),
  },
  'POST /images/prune': { filters: applied },
  'GET /images/{name}/get': { platform: refused(PLATFORM) },
  'GET /images/get': { names: applied, platform: refused(PLATFORM) },
  'POST /images/load': { quiet: applied, platform: refused(PLATFORM) },
};

// Routes berth serves that the spec does not define, with the reason.
export const EXTRA_ROUTES: Record<string, string> = {};

// A value a client sends to mean "the default": empty, zero, false, no filters.
export function isDefaultValue(v: string): boolean {
  return ['', '0', 'false', 'no', 'none', '{}', 'null'].includes(v.trim().toLowerCase());
}

// The parameter of `q` the table refuses for `route`, if any.
export function refusedParam(route: string, q: URLSearchParams): string | undefined {
  const rules = QUERY[route];
  if (!rules) return undefined;
  for (const [name, rule] of Object.entries(rules)) {
    if (rule.use !== 'refused') continue;
    if (!q.getAll(name).some((v) => !isDefaultValue(v))) continue;
    if (rule.when && !rule.when(q)) continue;
    return name;
  }
  return undefined;
}
