// Bridge networking: the default `bridge`, user-defined bridge networks,
// `host` and `none`. berth keeps the networks and does IPAM and the host
// port bookkeeping; netavark wires each container into each of its networks
// (veth, NAT, isolation, port DNAT) and runs aardvark-dns for the networks'
// names. A running container's network namespace is pinned (bind-mounted
// under the exec root) so that its teardown can run after its process has
// gone, even after a crash of the daemon.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BerthError, conflict, invalidArgument, notFound } from '../../errors';
import { MNT_DETACH, MS_BIND, type Host } from '../../host';
import { newId } from '../../util/ids';
import { KeyedLock } from '../../util/lock';
import type { EventPublisher } from '../events/bus';
import type { NetworkEndpointSpec, NetworkSpec } from '../containers/spec';
import { BASE_HOSTS, hostsFile, resolvConf } from './files';
import { InternalGuard } from './guard';
import {
  allocate, contains, formatCidr, hostRoutes, intToIp, ipToInt, isIPv4, overlaps, parseCidr, pickSubnet, type AddressPool, type Cidr,
} from './ipam';
import { BACKGROUND_NICE, Netavark } from './netavark';
import type { NetworkEndpoint, NetworkFiles, Networks } from './network';
import { PortHolder } from './ports';
import { NetworkStore } from './store';
import type { Attachment, ContainerNet, EndpointConfig, NetworkRecord, PoolEntry, PortMapping } from './types';

export interface BridgeConfig {
  bridge: string; // the default network's interface (dockerd's --bridge)
  bip?: string; // its gateway/prefix, e.g. 172.18.0.1/16
  fixedCidr?: string; // where its dynamic addresses come from
  mtu?: number;
  pools: AddressPool[]; // where new networks' subnets come from
}

export interface NetworkServiceOptions {
  root: string; // under the data root
  execRoot: string; // pinned namespaces and aardvark's state
  config: BridgeConfig;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
  netavark?: Netavark;
  guard?: InternalGuard;
  // Namespaces kept wired in advance on the default bridge (0: none).
  poolSize?: number;
}

// What a container had wired, being torn down after its exit.
interface Wired {
  netns?: string;
  attached: Attachment[];
  done: Promise<void>;
}

export interface CreateNetworkOptions {
  name: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  // Recorded and reported: any container may join a local bridge network,
  // so Attachable is always in effect here (docker-compose sends it).
  attachable?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

// Driver options that take effect; others are refused by name.
const BRIDGE_NAME = 'com.docker.network.bridge.name';
const MTU = 'com.docker.network.driver.mtu';
const KNOWN_OPTIONS = [BRIDGE_NAME, MTU];

export class NetworkService implements Networks {
  private networks = new Map<string, NetworkRecord>();
  private ctrs = new Map<string, ContainerNet>();
  private store: NetworkStore;
  private netavark: Netavark;
  private ports = new PortHolder();
  private lock = new KeyedLock();
  private pending = new Map<string, Promise<void>>();
  // Teardowns that run after the exit was answered, by container id.
  private tearing = new Map<string, Wired>();
  // Work in the background (teardowns, the pool's refills): stop() waits.
  private jobs = new Set<Promise<unknown>>();
  private pool = new Map<string, PoolEntry>();
  private filling?: Promise<void>;
  private stopped = false;
  private guard: InternalGuard;
  // Internal networks whose guard this daemon has checked (guard.ts).
  private guarded = new Set<string>();
  // This daemon's own jump into netavark's isolation chains (guard.ts).
  private isolationKept = false;

  constructor(private host: Host, private events: EventPublisher, private o: NetworkServiceOptions) {
    this.store = new NetworkStore(o.root);
    this.netavark = o.netavark ?? new Netavark(host, { configDir: path.join(o.execRoot, 'netavark'), log: (m) => o.log('debug', m) });
    this.guard = o.guard ?? new InternalGuard(host);
  }

  private get netnsDir(): string {
    return path.join(this.o.execRoot, 'netns');
  }

  // ----- startup -----

  async init(): Promise<void> {
    await fsp.mkdir(this.netnsDir, { recursive: true, mode: 0o700 });
    await fsp.mkdir(path.join(this.o.execRoot, 'netavark'), { recursive: true, mode: 0o700 });
    const { networks, containers, pool } = await this.store.init();
    for (const n of networks) this.networks.set(n.id, n);
    for (const c of containers) this.ctrs.set(c.id, c);
    // An earlier daemon's pool (killed, or stopped mid-way): torn down on
    // its network as it was then, before the default bridge may change.
    for (const p of pool) await this.dropPooled(p);
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (!this.byName(name)) await this.save({ id: newId(), name, driver, created: new Date().toISOString(), internal: false, dns: false, labels: {}, options: {}, predefined: true });
    }
    await this.defaultBridge();
    // Running containers keep their published ports: held again.
    for (const c of this.ctrs.values()) {
      for (const a of c.attached) for (const p of a.ports) await this.ports.hold(p).catch(() => {});
    }
  }

  // The default network follows the daemon's config; a change waits until
  // no container is on it.
  private async defaultBridge(): Promise<void> {
    const cfg = this.o.config;
    const key = JSON.stringify([cfg.bridge, cfg.bip, cfg.fixedCidr, cfg.mtu, cfg.pools]);
    const old = this.byName('bridge');
    if (old && (old.options['berth.config'] === key || this.users(old.id).length > 0)) return;
    if (old) await this.dropAnchor(old);
    let subnet: Cidr;
    let gateway: string;
    if (cfg.bip) {
      const b = parseCidr(cfg.bip, 'bip');
      subnet = b;
      gateway = intToIp(b.ip === b.addr ? b.addr + 1 : b.ip);
    } else {
      const taken = [...hostRoutes().filter((r) => !old?.subnet || formatCidr(r) !== old.subnet), ...this.subnets(old?.id)];
      const picked = pickSubnet(cfg.pools, taken);
      if (!picked) throw invalidArgument('no free address pool for the default bridge network: set bip or default-address-pools');
      subnet = picked;
      gateway = intToIp(subnet.addr + 1);
    }
    if (cfg.fixedCidr && !contains(subnet, parseCidr(cfg.fixedCidr, 'fixed-cidr').addr)) throw invalidArgument(`fixed-cidr ${cfg.fixedCidr} is not within the bridge subnet ${formatCidr(subnet)}`);
    const rec: NetworkRecord = {
      id: old?.id ?? newId(),
      name: 'bridge',
      driver: 'bridge',
      created: old?.created ?? new Date().toISOString(),
      bridge: cfg.bridge,
      subnet: formatCidr(subnet),
      gateway,
      ...(cfg.fixedCidr ? { ipRange: formatCidr(parseCidr(cfg.fixedCidr, 'fixed-cidr')) } : {}),
      userSubnet: !!cfg.bip,
      internal: false,
      dns: false,
      ...(cfg.mtu ? { mtu: cfg.mtu } : {}),
      labels: {},
      options: {
        'berth.config': key,
        'com.docker.network.bridge.default_bridge': 'true',
        'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        [BRIDGE_NAME]: cfg.bridge,
        [MTU]: String(cfg.mtu ?? 1500),
      },
      predefined: true,
    };
    await this.save(rec);
  }

  // After the containers were restored: state of containers that are gone,
  // or no longer running, is torn down (a crash between their exit and it).
  async reconcile(state: (id: string) => 'running' | 'stopped' | 'gone'): Promise<void> {
    for (const c of [...this.ctrs.values()]) {
      const s = state(c.id);
      if (s === 'running') continue;
      await this.detach(c.id).catch((err) => this.o.log('warn', `network teardown of ${c.id.slice(0, 12)}: ${err.message}`));
      if (s === 'gone') await this.forget(c.id);
    }
    // Pins nothing owns (a crash between pinning and saving).
    const owned = new Set<string>();
    for (const c of this.ctrs.values()) if (c.netns) owned.add(c.netns);
    for (const n of this.list()) if (n.anchor) owned.add(n.anchor.netns);
    for (const f of await fsp.readdir(this.netnsDir).catch(() => [] as string[])) {
      if (!owned.has(path.join(this.netnsDir, f))) await this.unpin(path.join(this.netnsDir, f));
    }
    this.refill();
  }

  // ----- lookup -----

  list(): NetworkRecord[] {
    return [...this.networks.values()];
  }

  // By full name, full id, then id prefix (dockerd's order).
  find(ref: string): NetworkRecord | undefined {
    const byName = this.byName(ref);
    if (byName) return byName;
    const byId = this.networks.get(ref);
    if (byId) return byId;
    if (!ref) return undefined;
    const hits = this.list().filter((n) => n.id.startsWith(ref));
    if (hits.length > 1) throw invalidArgument(`network ${ref} is ambiguous (${hits.length} matches found based on ID prefix)`);
    return hits[0];
  }

  get(ref: string): NetworkRecord {
    const n = this.find(ref);
    if (!n) throw notFound(`network ${ref} not found`);
    return n;
  }

  private byName(name: string): NetworkRecord | undefined {
    for (const n of this.networks.values()) if (n.name === name) return n;
    return undefined;
  }

  // Containers on a network while they run (its active endpoints).
  users(netId: string): ContainerNet[] {
    return [...this.ctrs.values()].filter((c) => c.attached.some((a) => a.network === netId));
  }

  container(id: string): ContainerNet | undefined {
    return this.ctrs.get(id);
  }

  private subnets(except?: string): Cidr[] {
    return this.list().filter((n) => n.subnet && n.id !== except).map((n) => parseCidr(n.subnet!));
  }

  private async save(n: NetworkRecord): Promise<void> {
    await this.store.saveNetwork(n);
    this.networks.set(n.id, n);
  }

  // ----- networks -----

  // Creates run one at a time: two at once would both pass the name check
  // and pick the same free subnet before either is saved.
  private creating: Promise<unknown> = Promise.resolve();

  create(o: CreateNetworkOptions): Promise<NetworkRecord> {
    const p = this.creating.then(() => this.createOne(o));
    this.creating = p.catch(() => undefined);
    return p;
  }

  private async createOne(o: CreateNetworkOptions): Promise<NetworkRecord> {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(o.name)) throw invalidArgument(`invalid network name "${o.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (this.byName(o.name)) throw conflict(`network with name ${o.name} already exists`);
    if (['host', 'none', 'bridge', 'default'].includes(o.name)) throw new BerthError('Forbidden', `${o.name} is a pre-defined network and cannot be created`);
    const options = o.options ?? {};
    for (const k of Object.keys(options)) {
      if (!KNOWN_OPTIONS.includes(k)) throw invalidArgument(`network option ${k} is not supported (supported: ${KNOWN_OPTIONS.join(', ')})`);
    }
    let mtu: number | undefined;
    if (options[MTU] !== undefined) {
      mtu = Number(options[MTU]);
      if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw invalidArgument(`invalid ${MTU} ${JSON.stringify(options[MTU])}`);
    }
    const id = newId();
    const bridge = options[BRIDGE_NAME] ?? `br-${id.slice(0, 12)}`;
    if (bridge.length > 15 || !/^[a-zA-Z0-9_.-]+$/.test(bridge)) throw invalidArgument(`invalid bridge name ${JSON.stringify(bridge)}`);
    if (this.list().some((n) => n.bridge === bridge)) throw conflict(`bridge name ${bridge} is already in use by another network`);
    let subnet: Cidr;
    if (o.subnet) {
      subnet = parseCidr(o.subnet);
      if (subnet.prefix > 30) throw invalidArgument(`invalid subnet ${o.subnet}: too small`);
      const clash = this.list().find((n) => n.subnet && overlaps(parseCidr(n.subnet), subnet));
      if (clash) throw new BerthError('Forbidden', `Pool overlaps with other one on this address space (network ${clash.name})`);
    } else {
      if (o.gateway || o.ipRange) throw invalidArgument('a gateway or ip-range needs a subnet');
      const picked = pickSubnet(this.o.config.pools, [...hostRoutes(), ...this.subnets()]);
      if (!picked) throw new BerthError('Forbidden', 'all predefined address pools have been fully subnetted');
      subnet = picked;
    }
    const gw = o.gateway ? ipToInt(o.gateway) : subnet.addr + 1;
    if (!contains(subnet, gw)) throw invalidArgument(`gateway ${o.gateway} is not in subnet ${formatCidr(subnet)}`);
    let ipRange: string | undefined;
    if (o.ipRange) {
      const r = parseCidr(o.ipRange, 'ip-range');
      if (!contains(subnet, r.addr) || r.prefix < subnet.prefix) throw invalidArgument(`ip-range ${o.ipRange} is not within subnet ${formatCidr(subnet)}`);
      ipRange = formatCidr(r);
    }
    const rec: NetworkRecord = {
      id,
      name: o.name,
      driver: 'bridge',
      created: new Date().toISOString(),
      bridge,
      subnet: formatCidr(subnet),
      gateway: intToIp(gw),
      ...(ipRange ? { ipRange } : {}),
      userSubnet: !!o.subnet,
      internal: !!o.internal,
      ...(o.attachable ? { attachable: true } : {}),
      dns: true,
      ...(mtu ? { mtu } : {}),
      labels: o.labels ?? {},
      options,
      predefined: false,
    };
    await this.save(rec);
    this.events.publish('network', 'create', id, { name: rec.name, type: 'bridge' });
    return rec;
  }

  async remove(ref: string): Promise<void> {
    const n = this.get(ref);
    if (n.predefined) throw new BerthError('Forbidden', `${n.name} is a pre-defined network and cannot be removed`);
    if (this.users(n.id).length) throw new BerthError('Forbidden', `error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    // Containers that left it may still be being torn down.
    await Promise.all([...this.tearing.values()].filter((w) => w.attached.some((a) => a.network === n.id)).map((w) => w.done));
    await this.lock.run(`net:${n.id}`, () => this.dropAnchor(n));
    await this.store.removeNetwork(n.id);
    this.networks.delete(n.id);
    this.events.publish('network', 'destroy', n.id, { name: n.name, type: 'bridge' });
  }

  // Unused user networks; `keep` says which to leave (filters).
  async prune(keep: (n: NetworkRecord) => boolean): Promise<string[]> {
    const gone: string[] = [];
    for (const n of this.list()) {
      if (n.predefined || keep(n) || this.users(n.id).length) continue;
      await this.remove(n.id).then(() => gone.push(n.name), () => {});
    }
    return gone;
  }

  // ----- containers: the seam -----

  check(network: NetworkSpec): void {
    if (network.mode === 'container' && !network.container) throw invalidArgument('a container network needs the container to join');
    if (network.mode !== 'bridge') return;
    // An unknown network fails the start, not the create, as in dockerd
    // (a 404 from create makes the docker CLI pull the image).
    const eps = network.endpoints?.length ? network.endpoints : [{ network: 'bridge', aliases: [] }];
    for (const e of eps) {
      const n = this.find(e.network);
      if (n) this.checkEndpoint(n, e);
    }
    const seen = new Set<string>();
    for (const p of network.ports ?? []) {
      if (!(p.containerPort > 0 && p.containerPort < 65536) || !(p.hostPort >= 0 && p.hostPort < 65536)) throw invalidArgument(`invalid port mapping ${p.hostPort}:${p.containerPort}`);
      if (p.hostIP && !isIPv4(p.hostIP)) throw invalidArgument(`invalid host IP ${JSON.stringify(p.hostIP)} for port ${p.containerPort}: only IPv4 is supported`);
      const k = `${p.protocol}/${p.hostIP}/${p.hostPort}`;
      if (p.hostPort && seen.has(k)) throw invalidArgument(`host port ${p.hostPort}/${p.protocol} is published twice`);
      seen.add(k);
    }
    for (const h of network.extraHosts ?? []) {
      if (h.ip !== 'host-gateway' && !isIPv4(h.ip) && !h.ip.includes(':')) throw invalidArgument(`invalid IP address in add-host: "${h.ip}"`);
    }
  }

  private checkEndpoint(n: NetworkRecord, e: { ip?: string; aliases: string[]; mac?: string }): void {
    if (n.driver !== 'bridge') throw invalidArgument(`container cannot be connected to network ${n.name} besides others: it is the ${n.name} network`);
    if (e.mac && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(e.mac)) throw invalidArgument(`invalid MAC address: ${e.mac}`);
    if (e.ip) {
      if (!n.userSubnet) throw invalidArgument('user specified IP address is supported only when connecting to networks with user configured subnets');
      if (!contains(parseCidr(n.subnet!), ipToInt(e.ip))) throw invalidArgument(`invalid IP address ${e.ip}: it is not in network ${n.name}'s subnet ${n.subnet}`);
    }
    if (e.aliases.length && n.name === 'bridge') throw invalidArgument('network-scoped alias is supported only for containers in user defined networks');
  }

  async writeFiles(ep: NetworkEndpoint, files: NetworkFiles): Promise<void> {
    const net = ep.network;
    if (net.mode === 'bridge') {
      const eps: NetworkEndpointSpec[] = net.endpoints?.length ? net.endpoints : [{ network: 'bridge', aliases: [] }];
      const c: ContainerNet = {
        id: ep.id,
        name: ep.name,
        hostname: ep.hostname,
        mode: 'bridge',
        endpoints: eps.map((e) => {
          const n = this.find(e.network);
          return { network: n?.id ?? e.network, name: n?.name ?? e.network, aliases: e.aliases, ...(e.ip ? { ip: e.ip } : {}), ...(e.mac ? { mac: e.mac } : {}) };
        }),
        ports: (net.ports ?? []).map((p) => ({ ...p })),
        attached: [],
      };
      await this.store.saveContainer(c);
      this.ctrs.set(c.id, c);
    }
    await Promise.all([
      fsp.writeFile(files.hostname, `${ep.hostname}\n`),
      fsp.writeFile(files.hosts, this.hostsText(ep, undefined)),
      fsp.writeFile(files.resolvConf, this.resolvText(net)),
    ]);
  }

  private resolvText(net: NetworkSpec): string {
    const mode = net.mode === 'host' ? 'host' : 'none';
    const primary = net.mode === 'bridge' ? this.find(net.endpoints?.[0]?.network ?? 'bridge') : undefined;
    const embedded = primary?.dns ? primary.gateway : undefined;
    if (!embedded && !net.dns?.length && !net.dnsSearch?.length && !net.dnsOptions?.length) return resolvConf(mode);
    // The host's, with what the container asked for in place of its parts.
    const base = resolvConf(mode).split('\n');
    const pick = (key: string) => base.filter((l) => new RegExp(`^\\s*${key}\\s`).test(l)).map((l) => l.trim().split(/\s+/).slice(1).join(' '));
    const servers = [...(embedded ? [embedded] : []), ...(net.dns?.length ? net.dns : embedded ? [] : pick('nameserver'))];
    const search = net.dnsSearch?.length ? net.dnsSearch.filter((s) => s !== '.') : pick('search');
    const options = net.dnsOptions?.length ? net.dnsOptions : pick('options');
    return [
      ...servers.map((s) => `nameserver ${s}`),
      ...(search.length && search.join(' ') ? [`search ${search.join(' ')}`] : []),
      ...(options.length && options.join(' ') ? [`options ${options.join(' ')}`] : []),
    ].join('\n') + '\n';
  }

  // /etc/hosts: the base, extra hosts, links, then the container's own
  // address (once it has one) with its hostname.
  private hostsText(ep: NetworkEndpoint, own: Attachment | undefined): string {
    const net = ep.network;
    if (net.mode === 'host' && !net.extraHosts?.length) return hostsFile('host');
    const lines = net.mode === 'host' ? [hostsFile('host').trimEnd()] : [...BASE_HOSTS];
    const gw = this.byName('bridge')?.gateway ?? '';
    for (const h of net.extraHosts ?? []) lines.push(`${h.ip === 'host-gateway' ? gw : h.ip}\t${h.name}`);
    for (const l of net.links ?? []) {
      const other = this.linked(l.container);
      const a = other?.attached.find((x) => own && x.network === own.network) ?? other?.attached[0];
      if (a && other) lines.push(`${a.ip}\t${[l.alias, other.name, other.id.slice(0, 12)].filter((v, i, all) => all.indexOf(v) === i).join(' ')}`);
    }
    if (own) lines.push(`${own.ip}\t${ep.domainname ? `${ep.hostname}.${ep.domainname} ` : ''}${ep.hostname}`);
    return lines.join('\n') + '\n';
  }

  // Before the runtime makes the container: its network namespace, made
  // here (runc joins it), and the wiring started in the background so that
  // it overlaps the runtime's create. attach() waits for it.
  async prepare(ep: NetworkEndpoint): Promise<string | undefined> {
    if (ep.network.mode !== 'bridge') return undefined;
    const c = this.ctrs.get(ep.id);
    if (!c) throw notFound(`network settings of container ${ep.id.slice(0, 12)} not found`);
    let pooled = false;
    const netns = await this.lock.run(c.id, async () => {
      if (c.attached.length || c.netns) await this.teardown(c); // a start after a crash
      try {
        this.checkLinks(ep);
        let p = this.takePooled(c);
        // None ready but one being wired: it is done sooner than a setup
        // of this container's own, which would wait for netavark's lock.
        if (!p && this.filling && this.poolable(c)) {
          await this.filling;
          p = this.takePooled(c);
        }
        if (p) {
          pooled = true;
          c.netns = p.netns;
          c.attached = [{ ...p.attachment, endpointId: newId() }];
          await this.store.saveContainer(c);
          await this.store.removePool(p.key);
          await fsp.writeFile(ep.files.hosts, this.hostsText(ep, c.attached[0]));
          this.refill();
          return c.netns;
        }
        await this.allocateAll(c, ep);
        await this.makeNetns(c.netns!);
      } catch (err) {
        await this.teardown(c).catch(() => {});
        throw err;
      }
      return c.netns!;
    });
    if (pooled) {
      this.o.log('debug', `network of ${c.id.slice(0, 12)}: pooled namespace ${path.basename(netns)}`);
      this.pending.set(c.id, Promise.resolve());
      return netns;
    }
    const t0 = Date.now();
    // A failure here leaves the namespace in place: runc may be joining it
    // right now, and removing it would make the start fail with runc's
    // "lstat …/netns/<id>" instead of the network's own error, which
    // attach() reports. The start's failure path detaches.
    const wired = this.lock.run(c.id, () => this.wire(c, ep, false)).finally(() => this.o.log('debug', `network wiring of ${c.id.slice(0, 12)}: ${Date.now() - t0} ms`));
    wired.catch(() => {});
    this.pending.set(c.id, wired);
    return netns;
  }

  // Ports held, addresses allocated, saved: from here a crash is undone at
  // the next start (reconcile).
  private checkLinks(ep: NetworkEndpoint): void {
    for (const l of ep.network.links ?? []) {
      if (!this.linked(l.container)?.attached.length) throw invalidArgument(`Cannot link to a non running container: /${l.container} AS /${ep.name}/${l.alias}`);
    }
  }

  private async allocateAll(c: ContainerNet, ep: NetworkEndpoint): Promise<void> {
    this.checkLinks(ep);
    // A port of a container still being torn down is free once that is done.
    const same = (p: PortMapping, q: PortMapping) => p.hostPort !== 0 && p.hostPort === q.hostPort && p.protocol === q.protocol;
    const busy = [...this.tearing.values()].filter((w) => w.attached.some((a) => a.ports.some((p) => c.ports.some((q) => same(q, p)))));
    await Promise.all(busy.map((w) => w.done));
    c.netns = path.join(this.netnsDir, c.id);
    // Held before anything is wired: a port in use fails the start cleanly.
    const ports = await this.holdPorts(c.ports);
    c.attached = [];
    try {
      for (const [i, e] of c.endpoints.entries()) {
        // By id; by name when it was removed and made again meanwhile.
        const n = this.networks.get(e.network) ?? this.byName(e.name);
        if (!n) throw notFound(`network ${e.name} not found`);
        if (n.id !== e.network) e.network = n.id;
        this.checkEndpoint(n, e);
        c.attached.push(this.allocate(c, e, i === 0 ? ports : []));
      }
    } catch (err) {
      for (const p of ports) this.ports.release(p);
      c.attached = [];
      throw err;
    }
    await this.store.saveContainer(c);
  }

  private async wire(c: ContainerNet, ep: NetworkEndpoint, undoOnError = true): Promise<void> {
    try {
      const nets = c.attached.map((a) => ({ a, n: this.networks.get(a.network)! }));
      for (const { n } of nets) await this.anchor(n);
      // All its networks in one netavark run: one lock wait, one process.
      const macs = await this.netavark.setupAll(c.netns!, { id: c.id, name: c.name }, nets);
      nets.forEach(({ a }, i) => (a.mac = macs[i]));
      await this.store.saveContainer(c);
      await fsp.writeFile(ep.files.hosts, this.hostsText(ep, c.attached[0]));
    } catch (err) {
      if (undoOnError) await this.teardown(c).catch((e) => this.o.log('warn', `network teardown of ${c.id.slice(0, 12)}: ${e.message}`));
      throw err instanceof BerthError ? err : new BerthError('Internal', `network setup: ${(err as Error).message}`);
    }
  }

  async attach(ep: NetworkEndpoint, pid: number): Promise<void> {
    if (ep.network.mode !== 'bridge') return;
    let wired = this.pending.get(ep.id);
    this.pending.delete(ep.id);
    if (!wired) {
      // Not prepared: the runtime made the namespace; it is pinned here.
      const c = this.ctrs.get(ep.id);
      if (!c) throw notFound(`network settings of container ${ep.id.slice(0, 12)} not found`);
      wired = this.lock.run(c.id, async () => {
        if (c.attached.length || c.netns) await this.teardown(c);
        try {
          await this.allocateAll(c, ep);
          await this.pin(pid, c.netns!);
        } catch (err) {
          await this.teardown(c).catch(() => {});
          throw err;
        }
        await this.wire(c, ep);
      });
    }
    await wired;
    const c = this.ctrs.get(ep.id)!;
    for (const a of c.attached) this.events.publish('network', 'connect', a.network, { container: c.id, name: this.networks.get(a.network)!.name, type: 'bridge' });
  }

  // A network's bridge and its rules live as long as the network (as
  // docker0 does), not as long as its last container: an anchor, a network
  // namespace of berth's own with one address on the bridge, keeps netavark
  // from tearing them down with each last container, which costs about
  // 165 ms (measured: 250 ms for a last teardown against 85 ms).
  private async anchor(n: NetworkRecord): Promise<void> {
    await this.anchorLocked(n);
    if (!this.isolationKept) {
      await this.guard.keepIsolation(this.byName('bridge')?.bridge ?? this.o.config.bridge);
      this.isolationKept = true;
    }
  }

  private anchorLocked(n: NetworkRecord): Promise<void> {
    return this.lock.run(`net:${n.id}`, async () => {
      if (n.anchor && fs.existsSync(n.anchor.netns)) {
        // Made by a daemon before the guard existed, or torn down by hand.
        if (n.internal && !this.guarded.has(n.id)) {
          await this.guard.install(n);
          this.guarded.add(n.id);
        }
        return;
      }
      const used = this.usedIPs(n);
      const ip = allocate(parseCidr(n.subnet!), n.ipRange ? parseCidr(n.ipRange) : undefined, used);
      if (ip === undefined) throw new BerthError('Unavailable', `no available IPv4 addresses on network ${n.name}`);
      const anchor = { netns: path.join(this.netnsDir, `anchor-${n.id.slice(0, 12)}`), ip: intToIp(ip), mac: macFor(ip) };
      n.anchor = anchor;
      await this.save(n);
      try {
        await this.makeNetns(anchor.netns);
        await this.netavark.setup(anchor.netns, this.anchorCtr(n), this.anchorAttachment(n), n);
        if (n.internal) {
          await this.guard.install(n);
          this.guarded.add(n.id);
        }
      } catch (err) {
        await this.dropAnchor(n).catch(() => {});
        throw err;
      }
    });
  }

  private anchorCtr(n: NetworkRecord) {
    return { id: `berth-anchor-${n.id}`, name: `berth-anchor-${n.id.slice(0, 12)}` };
  }

  private anchorAttachment(n: NetworkRecord): Attachment {
    const a = n.anchor!;
    return { network: n.id, iface: 'eth0', ip: a.ip, prefix: parseCidr(n.subnet!).prefix, gateway: n.gateway!, mac: a.mac, aliases: [], endpointId: '', ports: [] };
  }

  // With the last container gone: the bridge, its rules and its DNS go.
  private async dropAnchor(n: NetworkRecord): Promise<void> {
    const a = n.anchor;
    if (!a) return;
    if (fs.existsSync(a.netns)) {
      await this.netavark.teardown(a.netns, this.anchorCtr(n), this.anchorAttachment(n), n).catch((err) => {
        if (!/No such device|not found/i.test(err.message)) this.o.log('warn', `teardown of network ${n.name}: ${err.message}`);
      });
    }
    await this.unpin(a.netns);
    if (n.internal) {
      await this.guard.remove(n).catch((err) => this.o.log('warn', `guard of network ${n.name}: ${err.message}`));
      this.guarded.delete(n.id);
    }
    delete n.anchor;
    if (this.networks.has(n.id)) await this.save(n);
  }

  private usedIPs(n: NetworkRecord): Set<number> {
    const used = new Set<number>([ipToInt(n.gateway!)]);
    if (n.anchor) used.add(ipToInt(n.anchor.ip));
    const all = [...[...this.ctrs.values()].flatMap((o) => o.attached), ...[...this.tearing.values()].flatMap((w) => w.attached), ...[...this.pool.values()].map((p) => p.attachment)];
    for (const a of all) if (a.network === n.id) used.add(ipToInt(a.ip));
    return used;
  }

  // Tears down every container's wiring and every network's bridge: for
  // a host being cleaned up (`berthd --cleanup-networks`), never while
  // containers run.
  async teardownAll(): Promise<void> {
    await this.idle();
    for (const c of this.ctrs.values()) await this.teardown(c).catch((err) => this.o.log('warn', `teardown of ${c.id.slice(0, 12)}: ${err.message}`));
    for (const n of this.list()) await this.dropAnchor(n).catch((err) => this.o.log('warn', `teardown of network ${n.name}: ${err.message}`));
    await this.guard.dropIsolation().catch((err) => this.o.log('warn', `isolation rule: ${err.message}`));
  }

  private linked(ref: string): ContainerNet | undefined {
    for (const c of this.ctrs.values()) if (c.name === ref || c.id === ref) return c;
    const hits = [...this.ctrs.values()].filter((c) => c.id.startsWith(ref));
    return hits.length === 1 ? hits[0] : undefined;
  }

  // background: the teardown runs after this returns (an exit's answer
  // does not wait for netavark). Meanwhile the container shows no network;
  // its record on disk keeps the wiring until it is undone (a crash: the
  // next start's reconcile undoes it), its addresses stay taken, its ports
  // held, and anything else of this container waits (one lock).
  async detach(id: string, o: { announceAfter?: Promise<unknown>; background?: boolean } = {}): Promise<void> {
    const c = this.ctrs.get(id);
    if (!o.background) await this.tearing.get(id)?.done;
    if (!c || (!c.attached.length && !c.netns)) return;
    let was: { id: string; name: string }[] = [];
    const seen = () => (was = c.attached.map((a) => ({ id: a.network, name: this.networks.get(a.network)?.name ?? '' })));
    const announce = () => {
      for (const n of was) this.events.publish('network', 'disconnect', n.id, { container: c.id, name: n.name, type: 'bridge' });
    };
    if (!o.background) {
      await this.lock.run(id, async () => {
        seen();
        await this.teardown(c);
        if (o.announceAfter) void o.announceAfter.then(announce, announce);
        else announce();
      });
      return;
    }
    seen();
    let finished!: () => void;
    const w: Wired = { netns: c.netns, attached: c.attached, done: new Promise<void>((r) => (finished = r)) };
    c.attached = [];
    delete c.netns;
    this.tearing.set(id, w);
    // Announced now (after the die), as dockerd does before the destroy:
    // the endpoint is gone from view; the kernel's side follows.
    void (o.announceAfter ?? Promise.resolve()).then(announce, announce);
    const t0 = Date.now();
    this.track(
      this.lock
        .run(id, () => this.teardown(c, w, true))
        .catch((err) => this.o.log('warn', `network teardown of ${id.slice(0, 12)}: ${err.message}`))
        .finally(() => {
          this.o.log('debug', `network teardown of ${id.slice(0, 12)}: ${Date.now() - t0} ms`);
          this.tearing.delete(id);
          finished();
        }),
    );
  }

  // The record goes once any teardown of it is done (in the background:
  // queued behind it; until then a crash leaves it for reconcile).
  async forget(id: string, o: { background?: boolean } = {}): Promise<void> {
    const c = this.ctrs.get(id);
    if (!c) return;
    if (o.background && this.tearing.has(id)) {
      this.ctrs.delete(id);
      this.track(this.lock.run(id, () => this.store.removeContainer(id)).catch((err) => this.o.log('warn', `network record of ${id.slice(0, 12)}: ${err.message}`)));
      return;
    }
    await this.detach(id);
    await this.store.removeContainer(id);
    this.ctrs.delete(id);
  }

  private track(p: Promise<unknown>): void {
    this.jobs.add(p);
    void p.finally(() => this.jobs.delete(p));
  }

  // Until nothing runs in the background.
  async idle(): Promise<void> {
    while (this.jobs.size || this.filling) await Promise.all([...this.jobs, this.filling]);
  }

  // Undoes what attach did, whatever got done; the state is saved empty
  // only once netavark has torn down every network.
  private async teardown(c: ContainerNet, w: { netns?: string; attached: Attachment[] } = c, background = false): Promise<void> {
    const errors: string[] = [];
    if (w.netns && fs.existsSync(w.netns)) {
      for (const a of w.attached) {
        const n = this.networks.get(a.network);
        if (!n) continue;
        await this.netavark.teardown(w.netns, this.wiredAs(c, a), a, n, { background }).catch((err) => {
          // Not wired at all (setup never ran): nothing to undo.
          if (!/No such device|not found/i.test(err.message)) errors.push(err.message);
        });
      }
    }
    if (errors.length) this.o.log('warn', `network teardown of ${c.id.slice(0, 12)}: ${errors.join('; ')}`);
    for (const a of w.attached) for (const p of a.ports) this.ports.release(p);
    if (w.netns) await this.unpin(w.netns);
    c.attached = [];
    delete c.netns;
    await this.store.saveContainer(c);
  }

  private wiredAs(c: ContainerNet, a: Attachment): { id: string; name: string } {
    return a.wiredAs ? { id: a.wiredAs, name: a.wiredAs } : { id: c.id, name: c.name };
  }

  private allocate(c: ContainerNet, e: EndpointConfig, ports: PortMapping[]): Attachment {
    const n = this.networks.get(e.network);
    if (!n || n.driver !== 'bridge') throw notFound(`network ${e.network} not found`);
    const subnet = parseCidr(n.subnet!);
    const used = this.usedIPs(n);
    let ip: number | undefined;
    if (e.ip) {
      ip = ipToInt(e.ip);
      if (used.has(ip)) throw new BerthError('Forbidden', `Address already in use: ${e.ip} on network ${n.name}`);
    } else {
      ip = allocate(subnet, n.ipRange ? parseCidr(n.ipRange) : undefined, used);
      if (ip === undefined) throw new BerthError('Unavailable', `no available IPv4 addresses on network ${n.name}`);
    }
    const used2 = new Set(c.attached.map((a) => a.iface));
    let i = 0;
    while (used2.has(`eth${i}`)) i++;
    return {
      network: n.id,
      iface: `eth${i}`,
      ip: intToIp(ip),
      prefix: subnet.prefix,
      gateway: n.gateway!,
      mac: e.mac ?? macFor(ip),
      // Resolvable on the network: name, aliases and the short id (dockerd's DNSNames).
      aliases: n.dns ? [...new Set([...e.aliases, c.id.slice(0, 12)])] : [],
      endpointId: newId(),
      ports,
    };
  }

  private async holdPorts(want: PortMapping[]): Promise<PortMapping[]> {
    const got: PortMapping[] = [];
    try {
      for (const p of want) got.push(await this.ports.hold(p));
    } catch (err) {
      for (const p of got) this.ports.release(p);
      throw err;
    }
    return got;
  }

  // A network namespace of its own, kept by a bind mount on `file`.
  private async makeNetns(file: string, background = false): Promise<void> {
    await fsp.writeFile(file, '');
    const r = background ? await this.host.run('nice', ['-n', String(BACKGROUND_NICE), 'unshare', `--net=${file}`, 'true']) : await this.host.run('unshare', [`--net=${file}`, 'true']);
    if (r.code !== 0) throw new Error(`unshare --net: ${r.stderr.trim()}`);
  }

  private async pin(pid: number, file: string): Promise<void> {
    await fsp.writeFile(file, '');
    this.host.mount(`/proc/${pid}/ns/net`, file, null, MS_BIND, null);
  }

  private async unpin(file: string): Promise<void> {
    try {
      this.host.umount(file, MNT_DETACH);
    } catch (err: any) {
      if (err.code !== 'EINVAL' && err.code !== 'ENOENT') this.o.log('warn', `unmount ${file}: ${err.message}`);
    }
    await fsp.rm(file, { force: true });
  }

  // ----- the pool -----
  //
  // A few namespaces wired in advance on the default bridge (netns, veth,
  // address, the network's rules: netavark's setup, under a placeholder
  // container id), so that a plain container's start does not wait for
  // netavark: it takes one, and another is wired in the background. Each
  // entry is recorded before its namespace is made and forgotten once it
  // is gone or handed over; the next start tears down what a killed daemon
  // left, stop() what is there.

  // Only for what needs nothing of its own: the default bridge, no ports,
  // no static address or MAC.
  private poolable(c: ContainerNet): boolean {
    if (c.ports.length || c.endpoints.length !== 1) return false;
    const e = c.endpoints[0]!;
    const n = this.byName('bridge');
    return !(e.ip || e.mac || e.aliases.length || !n || e.network !== n.id);
  }

  private takePooled(c: ContainerNet): PoolEntry | undefined {
    const n = this.byName('bridge');
    if (!n || !this.poolable(c)) return undefined;
    for (const p of this.pool.values()) {
      if (!p.ready || p.network !== n.id) continue;
      this.pool.delete(p.key);
      return p;
    }
    return undefined;
  }

  private refill(): void {
    const size = this.o.poolSize ?? 0;
    if (this.stopped || this.filling || this.pool.size >= size) return;
    const n = this.byName('bridge');
    if (!n || n.driver !== 'bridge') return;
    // One at a time; a failure stops it until the next take.
    this.filling = this.fillOne(n).then((ok) => {
      this.filling = undefined;
      if (ok) this.refill();
    });
  }

  private async fillOne(n: NetworkRecord): Promise<boolean> {
    const ip = allocate(parseCidr(n.subnet!), n.ipRange ? parseCidr(n.ipRange) : undefined, this.usedIPs(n));
    if (ip === undefined) return false;
    const key = randomBytes(6).toString('hex');
    const p: PoolEntry = {
      key,
      network: n.id,
      netns: path.join(this.netnsDir, `pool-${key}`),
      attachment: { network: n.id, iface: 'eth0', ip: intToIp(ip), prefix: parseCidr(n.subnet!).prefix, gateway: n.gateway!, mac: macFor(ip), aliases: [], endpointId: '', ports: [], wiredAs: `berth-pool-${key}` },
      ready: false,
    };
    this.pool.set(key, p);
    const t0 = Date.now();
    try {
      await this.store.savePool(p);
      await this.anchor(n);
      await this.makeNetns(p.netns, true);
      p.attachment.mac = await this.netavark.setup(p.netns, { id: p.attachment.wiredAs!, name: p.attachment.wiredAs! }, p.attachment, n, { background: true });
      if (this.stopped) throw new Error('stopping');
      p.ready = true;
      await this.store.savePool(p);
      this.o.log('debug', `network pool: ${p.netns} wired in ${Date.now() - t0} ms`);
      return true;
    } catch (err) {
      if (!this.stopped) this.o.log('warn', `network pool: ${(err as Error).message}`);
      await this.dropPooled(p).catch(() => {});
      return false;
    }
  }

  // Undone by netavark on the network as recorded; a namespace a container
  // took (a crash in the hand-over) is that container's to tear down.
  private async dropPooled(p: PoolEntry): Promise<void> {
    this.pool.delete(p.key);
    const taken = [...this.ctrs.values()].some((c) => c.netns === p.netns);
    const n = this.networks.get(p.network);
    if (!taken) {
      if (n && fs.existsSync(p.netns)) {
        await this.netavark.teardown(p.netns, { id: p.attachment.wiredAs!, name: p.attachment.wiredAs! }, p.attachment, n, { background: true }).catch((err) => {
          if (!/No such device|not found/i.test(err.message)) this.o.log('warn', `network pool teardown: ${err.message}`);
        });
      }
      await this.unpin(p.netns);
    }
    await this.store.removePool(p.key);
  }

  // The daemon stops: the pool goes, background work ends (containers keep
  // running, and their ports are no longer held).
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
    for (const p of [...this.pool.values()]) await this.dropPooled(p).catch((err) => this.o.log('warn', `network pool: ${err.message}`));
    this.close();
  }

  // ----- connect / disconnect -----

  // pid: the container's init while it runs (0 when it does not).
  async connect(ctr: { id: string; name: string; hostname: string }, pid: number, ref: string, e: { ip?: string; aliases: string[]; mac?: string }): Promise<void> {
    const n = this.get(ref);
    const c = this.ctrs.get(ctr.id);
    if (!c || c.mode !== 'bridge') throw invalidArgument('container sharing network namespace with another container or host cannot be connected to any other network');
    if (n.driver !== 'bridge') throw invalidArgument(`container cannot be disconnected from host network or connected to host network`);
    this.checkEndpoint(n, e);
    await this.lock.run(c.id, async () => {
      if (c.endpoints.some((x) => x.network === n.id)) throw new BerthError('Forbidden', `endpoint with name ${c.name} already exists in network ${n.name}`);
      const cfg: EndpointConfig = { network: n.id, name: n.name, aliases: e.aliases, ...(e.ip ? { ip: e.ip } : {}), ...(e.mac ? { mac: e.mac } : {}) };
      if (pid && c.netns) {
        const a = this.allocate(c, cfg, []);
        c.attached.push(a);
        try {
          await this.store.saveContainer(c);
          a.mac = await this.netavark.setup(c.netns, { id: c.id, name: c.name }, a, n);
        } catch (err) {
          c.attached = c.attached.filter((x) => x !== a);
          await this.store.saveContainer(c);
          throw new BerthError('Internal', `network connect: ${(err as Error).message}`);
        }
      }
      c.endpoints.push(cfg);
      await this.store.saveContainer(c);
    });
    this.events.publish('network', 'connect', n.id, { container: c.id, name: n.name, type: 'bridge' });
  }

  async disconnect(ctrId: string, ref: string): Promise<void> {
    const n = this.get(ref);
    const c = this.ctrs.get(ctrId);
    if (!c || !c.endpoints.some((x) => x.network === n.id)) throw new BerthError('Forbidden', `container ${ctrId.slice(0, 12)} is not connected to network ${n.name}`);
    await this.lock.run(c.id, async () => {
      const a = c.attached.find((x) => x.network === n.id);
      if (a && c.netns) {
        await this.netavark.teardown(c.netns, this.wiredAs(c, a), a, n);
        for (const p of a.ports) this.ports.release(p);
        c.attached = c.attached.filter((x) => x !== a);
      }
      c.endpoints = c.endpoints.filter((x) => x.network !== n.id);
      await this.store.saveContainer(c);
    });
    this.events.publish('network', 'disconnect', n.id, { container: c.id, name: n.name, type: 'bridge' });
  }

  // Stops holding ports (the daemon stops; the DNAT rules stay).
  close(): void {
    this.ports.closeAll();
  }
}

// Docker derives a container's MAC from its IPv4 address: 02:42:a.b.c.d.
export function macFor(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
