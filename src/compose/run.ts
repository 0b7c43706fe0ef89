// Driving the Engine API for a project, as docker compose v2 does from the
// client side: networks and volumes first, images built or pulled, then the
// containers created in dependency order and started in dependency order
// (each waiting for its dependencies' conditions), stopped in reverse.
import type { Readable } from 'node:stream';
import { ComposeError } from './errors';
import { COMPOSE_VERSION, L } from './labels';
import type { Project, Service } from './model';
import { containerName, createBody, type Existing, imageName, inDependencyOrder, planService, scaleOf, serviceHash } from './plan';

// What the runner needs of the client (src/client's Client has it).

// How often a dependency's or --wait's state is read: a local daemon answers
// an inspect in about a millisecond, and a healthcheck-gated start should not
// wait out most of a long tick after the dependency turned healthy.
const POLL_MS = 100;
export interface Api {
  get<T = any>(path: string, query?: Record<string, unknown>): Promise<T>;
  json<T = any>(method: string, path: string, opts?: { query?: Record<string, any>; body?: unknown }): Promise<T>;
  call(method: string, path: string, opts?: { query?: Record<string, any>; body?: unknown }): Promise<number>;
}

export type Status = 'Creating' | 'Created' | 'Starting' | 'Started' | 'Running' | 'Recreate' | 'Recreated' | 'Stopping' | 'Stopped'
  | 'Removing' | 'Removed' | 'Waiting' | 'Healthy' | 'Exited' | 'Pulling' | 'Pulled' | 'Building' | 'Built' | 'Restarting' | 'Restarted' | 'Warning';

export interface Hooks {
  // Progress: " Container app-web-1  Started".
  report(kind: 'Network' | 'Volume' | 'Container' | 'Image' | 'Service', name: string, status: Status, detail?: string): void;
  warn(text: string): void;
  build(project: Project, svc: Service, tag: string): Promise<void>;
  pull(image: string, quiet?: boolean): Promise<void>;
  // Waits between polls of a dependency's state (tests pass one that does not wait).
  sleep(ms: number): Promise<void>;
}

export const isNotFound = (e: unknown) => (e as { status?: number })?.status === 404;
const q = encodeURIComponent;

export class Runner {
  constructor(readonly api: Api, readonly project: Project, readonly hooks: Hooks) {}

  // The project's containers (all, or one service's), one-offs excluded unless asked.
  async containers(opts: { service?: string; oneoff?: boolean | 'any'; all?: boolean } = {}): Promise<Existing[]> {
    const label = [`${L.project}=${this.project.name}`];
    if (opts.service) label.push(`${L.service}=${opts.service}`);
    if (opts.oneoff !== 'any') label.push(`${L.oneoff}=${opts.oneoff ? 'True' : 'False'}`);
    const list = await this.api.get<Existing[]>('/containers/json', { all: opts.all ?? true, filters: JSON.stringify({ label }) });
    return list.sort((a, b) => a.Names[0].localeCompare(b.Names[0]));
  }

  orphans(list: Existing[]): Existing[] {
    return list.filter((c) => {
      const s = c.Labels[L.service];
      return !this.project.services[s] && !this.project.disabled[s];
    });
  }

  async ensureNetworks(services: string[]): Promise<void> {
    const used = new Set<string>();
    for (const n of services) for (const k of Object.keys(this.project.services[n].networks ?? {})) used.add(k);
    // One at a time, in order: an engine may not serialize its subnet picks.
    for (const key of [...used].sort()) {
      const net = this.project.networks[key];
      let found: { Labels?: Record<string, string> } | undefined;
      try {
        found = await this.api.get(`/networks/${q(net.name)}`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (net.external) {
        if (!found) throw new ComposeError('', `network ${net.name} declared as external, but could not be found`);
        continue;
      }
      if (found) {
        if (found.Labels?.[L.project] !== this.project.name) this.hooks.warn(`a network with name ${net.name} exists but was not created for project "${this.project.name}".\nSet \`external: true\` to use an existing network`);
        continue;
      }
      this.hooks.report('Network', net.name, 'Creating');
      const ipam = net.ipam ? {
        Driver: net.ipam.driver ?? 'default',
        Config: (net.ipam.config ?? []).map((c) => ({ Subnet: c.subnet, IPRange: c.ip_range, Gateway: c.gateway })),
      } : undefined;
      await this.api.json('POST', '/networks/create', {
        body: JSON.parse(JSON.stringify({
          Name: net.name,
          Driver: net.driver ?? 'bridge',
          Options: net.driver_opts,
          Internal: net.internal,
          Attachable: net.attachable,
          EnableIPv6: net.enable_ipv6,
          IPAM: ipam,
          Labels: { ...net.labels, [L.project]: this.project.name, [L.network]: key, [L.version]: COMPOSE_VERSION },
        })),
      });
      this.hooks.report('Network', net.name, 'Created');
    }
  }

  async ensureVolumes(services: string[]): Promise<void> {
    const used = new Set<string>();
    for (const n of services) for (const v of this.project.services[n].volumes) if (v.type === 'volume' && v.source) used.add(v.source);
    await Promise.all([...used].map(async (key) => {
      const vol = this.project.volumes[key];
      let found: { Labels?: Record<string, string> } | undefined;
      try {
        found = await this.api.get(`/volumes/${q(vol.name)}`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (vol.external) {
        if (!found) throw new ComposeError('', `external volume "${vol.name}" not found`);
        return;
      }
      if (found) {
        if (found.Labels?.[L.project] !== this.project.name) this.hooks.warn(`volume "${vol.name}" already exists but was not created by Docker Compose. Use \`external: true\` to use an existing volume`);
        return;
      }
      this.hooks.report('Volume', vol.name, 'Creating');
      await this.api.json('POST', '/volumes/create', {
        body: JSON.parse(JSON.stringify({
          Name: vol.name,
          Driver: vol.driver ?? 'local',
          DriverOpts: vol.driver_opts,
          Labels: { ...vol.labels, [L.project]: this.project.name, [L.volume]: key, [L.version]: COMPOSE_VERSION },
        })),
      });
      this.hooks.report('Volume', vol.name, 'Created');
    }));
  }

  async imageId(ref: string): Promise<string | undefined> {
    try {
      return (await this.api.get<{ Id: string }>(`/images/${q(ref)}/json`)).Id;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  // Builds (a service with build: when asked, or when its image is missing)
  // or pulls (missing images, or pull_policy: always) what the services need.
  async ensureImages(services: string[], opts: { build?: boolean; noBuild?: boolean; pull?: 'always' | 'missing' | 'never' } = {}): Promise<void> {
    const builds: Service[] = [];
    const pulls = new Set<string>();
    for (const n of services) {
      const svc = this.project.services[n];
      const ref = imageName(this.project, svc);
      const policy = opts.pull ?? svc.pull_policy ?? 'missing';
      if (svc.build && !opts.noBuild && (opts.build || policy === 'build' || !(await this.imageId(ref)))) builds.push(svc);
      else if (policy === 'always' || (policy === 'missing' && !(await this.imageId(ref)))) {
        if (!svc.image) throw new ComposeError('', `service "${n}" has no image to pull and its build is not run (--no-build)`);
        pulls.add(ref);
      } else if (policy === 'never' && !(await this.imageId(ref))) throw new ComposeError('', `service "${n}": image ${ref} not found and its pull_policy is never`);
    }
    await Promise.all([...pulls].map(async (ref) => {
      this.hooks.report('Image', ref, 'Pulling');
      await this.hooks.pull(ref);
      this.hooks.report('Image', ref, 'Pulled');
    }));
    // Builds one at a time: the classic builder's output is one stream per build.
    for (const svc of builds) await this.hooks.build(this.project, svc, imageName(this.project, svc));
  }

  private async create(svc: Service, number: number, hash: string): Promise<string> {
    const { name, body } = createBody(this.project, svc, {
      number,
      hash,
      containerOf: (s) => this.firstContainer.get(s),
    });
    this.hooks.report('Container', name, 'Creating');
    const r = await this.api.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body });
    this.hooks.report('Container', name, 'Created');
    return r.Id;
  }

  private firstContainer = new Map<string, string>();

  // Creates, recreates and removes containers so each service matches the
  // model; returns what to start per service.
  async converge(services: string[], opts: { forceRecreate?: boolean; noRecreate?: boolean } = {}): Promise<Map<string, { id: string; name: string; fresh: boolean }[]>> {
    const toStart = new Map<string, { id: string; name: string; fresh: boolean }[]>();
    await inDependencyOrder(this.project, services, async (n) => {
      const svc = this.project.services[n];
      const existing = await this.containers({ service: n });
      const hash = serviceHash(svc);
      const image = await this.imageId(imageName(this.project, svc));
      const actions = planService(svc, existing, hash, image, opts);
      const started: { id: string; name: string; fresh: boolean }[] = [];
      const ordered = actions.filter((a) => a.kind !== 'remove').sort((a, b) => (a as { number: number }).number - (b as { number: number }).number);
      await Promise.all(actions.filter((a) => a.kind === 'remove').map(async (a) => {
        const c = (a as { container: Existing }).container;
        await this.removeContainer(c, { volumes: true });
      }));
      for (const a of ordered) {
        if (a.kind === 'create') {
          const id = await this.create(svc, a.number, hash);
          started.push({ id, name: containerName(this.project, svc, a.number), fresh: true });
        } else if (a.kind === 'recreate') {
          const old = a.container;
          const oldName = old.Names[0].replace(/^\//, '');
          this.hooks.report('Container', oldName, 'Recreate');
          await this.api.call('POST', `/containers/${old.Id}/stop`, { query: svc.stop_grace_period ? {} : {} });
          // The old one steps aside under a temporary name until the new one exists.
          await this.api.call('POST', `/containers/${old.Id}/rename`, { query: { name: `${old.Id.slice(0, 12)}_${oldName}` } });
          let id: string;
          try {
            id = await this.create(svc, a.number, hash);
          } catch (e) {
            await this.api.call('POST', `/containers/${old.Id}/rename`, { query: { name: oldName } }).catch(() => undefined);
            throw e;
          }
          // Its anonymous volumes go with it: the new container has its own (up -V).
          await this.api.call('DELETE', `/containers/${old.Id}`, { query: { force: true, v: true } });
          this.hooks.report('Container', oldName, 'Recreated');
          started.push({ id, name: containerName(this.project, svc, a.number), fresh: true });
        } else {
          const c = (a as { container: Existing }).container;
          started.push({ id: c.Id, name: c.Names[0].replace(/^\//, ''), fresh: a.kind === 'start' });
          if (a.kind === 'keep') this.hooks.report('Container', c.Names[0].replace(/^\//, ''), 'Running');
        }
      }
      if (started[0]) this.firstContainer.set(n, started[0].id);
      toStart.set(n, started);
    });
    return toStart;
  }

  // Starts the services in dependency order, each once its dependencies
  // meet their conditions.
  async start(services: string[], which?: Map<string, { id: string; name: string; fresh: boolean }[]>): Promise<void> {
    await inDependencyOrder(this.project, services, async (n) => {
      const svc = this.project.services[n];
      await this.waitDependencies(svc, services);
      const list = which?.get(n) ?? (await this.containers({ service: n })).map((c) => ({ id: c.Id, name: c.Names[0].replace(/^\//, ''), fresh: c.State !== 'running' }));
      await Promise.all(list.filter((c) => c.fresh).map(async (c) => {
        this.hooks.report('Container', c.name, 'Starting');
        await this.api.call('POST', `/containers/${c.id}/start`);
        this.hooks.report('Container', c.name, 'Started');
      }));
    });
  }

  async waitDependencies(svc: Service, selected: string[]): Promise<void> {
    await Promise.all(Object.entries(svc.depends_on).map(async ([dep, d]) => {
      if (!this.project.services[dep] || !selected.includes(dep)) {
        if (!this.project.services[dep] && !d.required) return;
      }
      const list = await this.containers({ service: dep });
      if (!list.length) {
        if (!d.required) return;
        throw new ComposeError('', `service "${dep}" has no container to wait for`);
      }
      await Promise.all(list.map((c) => this.waitCondition(dep, c, d.condition)));
    }));
  }

  async waitCondition(service: string, c: Existing, condition: string): Promise<void> {
    const name = c.Names[0].replace(/^\//, '');
    if (condition === 'service_started') return;
    this.hooks.report('Container', name, 'Waiting');
    for (;;) {
      const s = await this.api.get<{ State: { Status: string; ExitCode: number; Health?: { Status: string } }; Config: { Healthcheck?: { Test?: string[] } } }>(`/containers/${c.Id}/json`);
      if (condition === 'service_healthy') {
        const h = s.State.Health?.Status;
        if (!s.State.Health) throw new ComposeError('', `container ${name} has no healthcheck configured`);
        if (h === 'healthy') {
          this.hooks.report('Container', name, 'Healthy');
          return;
        }
        if (h === 'unhealthy') throw new ComposeError('', `dependency failed to start: container ${name} is unhealthy`);
        if (s.State.Status === 'exited' || s.State.Status === 'dead') throw new ComposeError('', `dependency failed to start: container ${name} exited (${s.State.ExitCode})`);
      } else {
        if (s.State.Status === 'exited' || s.State.Status === 'dead') {
          if (s.State.ExitCode !== 0) throw new ComposeError('', `service "${service}" didn't complete successfully: exit ${s.State.ExitCode}`);
          this.hooks.report('Container', name, 'Exited');
          return;
        }
      }
      await this.hooks.sleep(POLL_MS);
    }
  }

  // --wait: every container running, and healthy where it has a healthcheck.
  async waitRunning(services: string[]): Promise<void> {
    await Promise.all(services.map(async (n) => {
      for (const c of await this.containers({ service: n })) {
        const name = c.Names[0].replace(/^\//, '');
        this.hooks.report('Container', name, 'Waiting');
        for (;;) {
          const s = await this.api.get<{ State: { Status: string; ExitCode: number; Health?: { Status: string } } }>(`/containers/${c.Id}/json`);
          if (s.State.Status === 'exited' || s.State.Status === 'dead') {
            throw new ComposeError('', `container ${name} exited (${s.State.ExitCode})`);
          }
          const h = s.State.Health?.Status;
          if (h === 'unhealthy') throw new ComposeError('', `container ${name} is unhealthy`);
          if (s.State.Status === 'running' && (!s.State.Health || h === 'healthy')) {
            this.hooks.report('Container', name, 'Healthy');
            break;
          }
          await this.hooks.sleep(POLL_MS);
        }
      }
    }));
  }

  async up(services: string[], opts: { build?: boolean; noBuild?: boolean; pull?: 'always' | 'missing' | 'never'; forceRecreate?: boolean; noRecreate?: boolean; removeOrphans?: boolean; noStart?: boolean; wait?: boolean }): Promise<void> {
    const all = await this.containers({ oneoff: 'any' });
    const orphans = this.orphans(all);
    if (orphans.length) {
      if (opts.removeOrphans) await Promise.all(orphans.map((c) => this.removeContainer(c, {})));
      else this.hooks.warn(`Found orphan containers ([${orphans.map((c) => c.Names[0].replace(/^\//, '')).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
    }
    await this.ensureImages(services, opts);
    await this.ensureNetworks(services);
    await this.ensureVolumes(services);
    const which = await this.converge(services, opts);
    if (opts.noStart) return;
    await this.start(services, which);
    if (opts.wait) await this.waitRunning(services);
  }

  async stopContainer(c: Existing, timeout?: number): Promise<void> {
    const name = c.Names[0].replace(/^\//, '');
    if (c.State !== 'running' && c.State !== 'restarting' && c.State !== 'paused') return;
    this.hooks.report('Container', name, 'Stopping');
    await this.api.call('POST', `/containers/${c.Id}/stop`, { query: { t: timeout } });
    this.hooks.report('Container', name, 'Stopped');
  }

  async removeContainer(c: Existing, opts: { volumes?: boolean; timeout?: number }): Promise<void> {
    await this.stopContainer(c, opts.timeout);
    const name = c.Names[0].replace(/^\//, '');
    this.hooks.report('Container', name, 'Removing');
    try {
      await this.api.call('DELETE', `/containers/${c.Id}`, { query: { v: opts.volumes, force: true } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.hooks.report('Container', name, 'Removed');
  }

  // Stops the services' containers, dependents first.
  async stop(services: string[], timeout?: number): Promise<void> {
    const list = await this.containers({});
    await inDependencyOrder(this.project, services, async (n) => {
      await Promise.all(list.filter((c) => c.Labels[L.service] === n).map((c) => this.stopContainer(c, timeout)));
    }, true);
  }

  async down(opts: { volumes?: boolean; rmi?: 'all' | 'local'; removeOrphans?: boolean; timeout?: number }): Promise<void> {
    const all = await this.containers({ oneoff: 'any' });
    // A project known by name only: all of its containers go.
    const orphans = this.project.config_files.length ? this.orphans(all) : [];
    if (!this.project.config_files.length) opts = { ...opts, removeOrphans: true };
    const names = Object.keys(this.project.services);
    const known = new Set([...names, ...Object.keys(this.project.disabled)]);
    // Services disabled by their profiles go too; then the orphans, if asked.
    const byService = (n: string) => all.filter((c) => c.Labels[L.service] === n);
    await inDependencyOrder(this.project, [...known], async (n) => {
      await Promise.all(byService(n).map((c) => this.removeContainer(c, { volumes: opts.volumes, timeout: opts.timeout })));
    }, true);
    if (!this.project.config_files.length) await Promise.all(all.map((c) => this.removeContainer(c, { volumes: opts.volumes, timeout: opts.timeout })));
    if (orphans.length) {
      if (opts.removeOrphans) await Promise.all(orphans.map((c) => this.removeContainer(c, { volumes: opts.volumes, timeout: opts.timeout })));
      else this.hooks.warn(`Found orphan containers ([${orphans.map((c) => c.Names[0].replace(/^\//, '')).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
    }
    // Networks: the project's by label (external ones are not).
    const nets = await this.api.get<{ Id: string; Name: string; Labels?: Record<string, string> }[]>('/networks', { filters: JSON.stringify({ label: [`${L.project}=${this.project.name}`] }) });
    const declared = new Set(Object.values(this.project.networks).filter((n) => !n.external).map((n) => n.name));
    const byLabelOnly = !this.project.config_files.length;
    for (const net of nets.sort((a, b) => a.Name.localeCompare(b.Name))) {
      if (!declared.has(net.Name) && !opts.removeOrphans && !byLabelOnly) continue;
      this.hooks.report('Network', net.Name, 'Removing');
      try {
        await this.api.call('DELETE', `/networks/${net.Id}`);
        this.hooks.report('Network', net.Name, 'Removed');
      } catch (e) {
        if (!isNotFound(e)) this.hooks.warn(`network ${net.Name}: ${(e as Error).message}`);
      }
    }
    if (opts.volumes) {
      const vols = await this.api.get<{ Volumes: { Name: string; Labels?: Record<string, string> }[] | null }>('/volumes', { filters: JSON.stringify({ label: [`${L.project}=${this.project.name}`] }) });
      const declaredVols = new Set(Object.values(this.project.volumes).filter((v) => !v.external).map((v) => v.name));
      for (const v of vols.Volumes ?? []) {
        if (!declaredVols.has(v.Name) && !byLabelOnly) continue;
        this.hooks.report('Volume', v.Name, 'Removing');
        try {
          await this.api.call('DELETE', `/volumes/${q(v.Name)}`);
          this.hooks.report('Volume', v.Name, 'Removed');
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
    if (opts.rmi) {
      const images = new Set<string>();
      for (const svc of Object.values(this.project.services)) {
        if (opts.rmi === 'all' || !svc.image) images.add(imageName(this.project, svc));
      }
      for (const ref of images) {
        try {
          await this.api.call('DELETE', `/images/${q(ref)}`);
          this.hooks.report('Image', ref, 'Removed');
        } catch (e) {
          if (!isNotFound(e)) this.hooks.warn(`image ${ref}: ${(e as Error).message}`);
        }
      }
    }
  }
}

export type { Readable, Existing };
export { scaleOf };
