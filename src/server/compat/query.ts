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

const NO_CACHE = 'the build cache is the builder\'s intermediate images, which `docker image prune` removes; this prune has nothing of its own to remove';
const BUILD_LIMITS = 'resource limits on the build\'s RUN containers are not applied yet';
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

  // networks
  'GET /networks': { filters: { use: 'applied', note: 'name, id, label, driver, type, dangling, scope' } },
  'GET /networks/{id}': { verbose: ignored('verbose adds swarm services; berth has no swarm'), scope: { use: 'applied', note: 'only `local` networks exist' } },
  'DELETE /networks/{id}': {},
  'POST /networks/create': {},
  'POST /networks/{id}/connect': {},
  'POST /networks/{id}/disconnect': {},
  'POST /networks/prune': { filters: { use: 'applied', note: 'until, label, label!' } },

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
    v: { use: 'applied', note: 'the container\'s anonymous volumes go too, unless another container uses them; named volumes never do' },
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
  'POST /containers/{id}/update': {},
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

  // volumes
  'GET /volumes': { filters: { use: 'applied', note: 'dangling, name, label, driver' } },
  'POST /volumes/create': {},
  'GET /volumes/{name}': {},
  'DELETE /volumes/{name}': { force: { use: 'applied', note: 'a missing volume is no error; one in use is still refused, as in dockerd' } },
  'POST /volumes/prune': { filters: { use: 'applied', note: 'label, label!, all (from API 1.42 only anonymous volumes go unless all=true)' } },

  // the builder (engine/build): the classic builder's protocol
  'POST /build': {
    dockerfile: { use: 'applied', note: 'a path in the context' },
    t: { use: 'applied', note: 'several allowed' },
    extrahosts: applied,
    q: applied,
    nocache: applied,
    pull: applied,
    rm: applied,
    forcerm: { use: 'applied', note: 'a failed step\'s container is always removed' },
    buildargs: applied,
    labels: applied,
    networkmode: { use: 'applied', note: 'default, bridge, host, none or a network\'s name; container:<id> is refused' },
    target: applied,
    platform: { use: 'applied', note: 'the host\'s platform only; another is refused' },
    version: refused('only the classic builder (version 1) is served; BuildKit\'s session protocol is not', (q) => q.get('version') === '2'),
    remote: refused('remote build contexts (URLs, git repositories) are not supported yet'),
    cachefrom: refused('importing cache from images is not supported yet'),
    memory: refused(BUILD_LIMITS),
    memswap: refused(BUILD_LIMITS),
    cpushares: refused(BUILD_LIMITS),
    cpusetcpus: refused(BUILD_LIMITS),
    cpuperiod: refused(BUILD_LIMITS),
    cpuquota: refused(BUILD_LIMITS),
    shmsize: refused(BUILD_LIMITS),
    squash: refused('squashing a build into one layer is not supported'),
    outputs: refused('build outputs other than an image are BuildKit\'s and not supported'),
  },

  // build cache
  'POST /build/prune': {
    'keep-storage': ignored(NO_CACHE),
    'reserved-space': ignored(NO_CACHE),
    'max-used-space': ignored(NO_CACHE),
    'min-free-space': ignored(NO_CACHE),
    all: ignored(NO_CACHE),
    filters: ignored(NO_CACHE),
  },
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
