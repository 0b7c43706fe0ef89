// /networks: the engine's networks in Docker's shapes.
import type { ContainerService } from '../../engine/containers/service';
import type { NetworkService } from '../../engine/network/service';
import type { ContainerNet, NetworkRecord } from '../../engine/network/types';
import { invalidArgument, notFound } from '../../errors';
import { filtersParam, readJSON, sendJSON, sendNoContent, timestampValue } from '../http';
import type { Router } from '../router';

export interface NetworksBackend {
  networks: NetworkService;
  containers: ContainerService;
}

const LIST_FILTERS = ['name', 'id', 'label', 'driver', 'type', 'dangling', 'scope'];
const PRUNE_FILTERS = ['until', 'label', 'label!'];

export function networkJSON(n: NetworkRecord, ctrs: ContainerNet[] | undefined): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const c of ctrs ?? []) {
    const a = c.attached.find((x) => x.network === n.id);
    if (!a) continue;
    containers[c.id] = { Name: c.name, EndpointID: a.endpointId, MacAddress: a.mac, IPv4Address: `${a.ip}/${a.prefix}`, IPv6Address: '' };
  }
  const options = { ...n.options };
  delete options['berth.config'];
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      Options: null,
      Config: n.subnet ? [{ Subnet: n.subnet, Gateway: n.gateway, ...(n.ipRange ? { IPRange: n.ipRange } : {}) }] : [],
    },
    Internal: n.internal,
    Attachable: !!n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: options,
    Labels: n.labels,
  };
}

function labelMatch(labels: Record<string, string>, want: string): boolean {
  const eq = want.indexOf('=');
  return eq < 0 ? want in labels : labels[want.slice(0, eq)] === want.slice(eq + 1);
}

function checkFilters(f: Map<string, string[]>, known: string[]): void {
  for (const k of f.keys()) if (!known.includes(k)) throw invalidArgument(`invalid filter '${k}'`);
}

export function networkRoutes(r: Router, b: NetworksBackend): void {
  const users = (n: NetworkRecord) => b.networks.users(n.id);

  r.get('/networks', (ctx) => {
    const f = filtersParam(ctx.query);
    checkFilters(f, LIST_FILTERS);
    for (const v of f.get('type') ?? []) if (!['custom', 'builtin'].includes(v)) throw invalidArgument(`invalid filter: 'type'='${v}'`);
    const dangling = f.get('dangling');
    if (dangling) for (const v of dangling) if (!['true', 'false', '1', '0'].includes(v)) throw invalidArgument(`invalid filter 'dangling=${v}'`);
    const out = b.networks.list().filter((n) => {
      const any = (k: string, test: (v: string) => boolean) => !f.has(k) || f.get(k)!.some(test);
      return (
        any('name', (v) => n.name.includes(v)) &&
        any('id', (v) => n.id.startsWith(v)) &&
        (f.get('label') ?? []).every((v) => labelMatch(n.labels, v)) &&
        any('driver', (v) => v === n.driver) &&
        any('scope', (v) => v === 'local') &&
        any('type', (v) => (v === 'builtin') === n.predefined) &&
        any('dangling', (v) => (v === 'true' || v === '1') === (!n.predefined && users(n).length === 0))
      );
    });
    sendJSON(ctx.res, 200, out.map((n) => networkJSON(n, users(n))));
  });

  r.get('/networks/:id', (ctx) => {
    const scope = ctx.query.get('scope');
    const n = b.networks.get(ctx.params.id);
    if (scope && scope !== 'local') throw notFound(`network ${ctx.params.id} not found`);
    sendJSON(ctx.res, 200, networkJSON(n, users(n)));
  });

  r.delete('/networks/:id', async (ctx) => {
    await b.networks.remove(ctx.params.id);
    sendNoContent(ctx.res);
  });

  r.post('/networks/create', async (ctx) => {
    const body = (await readJSON(ctx.req)) ?? {};
    const known = ['Name', 'CheckDuplicate', 'Driver', 'Scope', 'Internal', 'Attachable', 'Ingress', 'IPAM', 'EnableIPv4', 'EnableIPv6', 'Options', 'Labels', 'ConfigOnly', 'ConfigFrom'];
    for (const k of Object.keys(body)) if (!known.includes(k)) throw invalidArgument(`unknown field ${k} in network create`);
    const name = body.Name;
    if (typeof name !== 'string' || !name) throw invalidArgument('network name is required');
    const driver = (body.Driver as string) || 'bridge';
    if (driver !== 'bridge') throw invalidArgument(`network driver ${JSON.stringify(driver)} is not supported (only bridge)`);
    for (const k of ['Ingress', 'ConfigOnly', 'EnableIPv6']) if (body[k]) throw invalidArgument(`network create: ${k} is not supported`);
    if (body.EnableIPv4 === false) throw invalidArgument('network create: EnableIPv4=false is not supported');
    if (body.ConfigFrom && (body.ConfigFrom as { Network?: string }).Network) throw invalidArgument('network create: ConfigFrom is not supported');
    if (body.Scope && body.Scope !== 'local') throw invalidArgument(`network create: Scope ${JSON.stringify(body.Scope)} is not supported`);
    const ipam = (body.IPAM ?? {}) as { Driver?: string; Config?: { Subnet?: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> }[]; Options?: Record<string, string> };
    if (ipam.Driver && ipam.Driver !== 'default') throw invalidArgument(`IPAM driver ${JSON.stringify(ipam.Driver)} is not supported`);
    if (ipam.Options && Object.keys(ipam.Options).length) throw invalidArgument('IPAM.Options is not supported');
    const cfgs = ipam.Config ?? [];
    if (cfgs.length > 1) throw invalidArgument('only one IPAM config (one IPv4 subnet) per network is supported');
    const c = cfgs[0] ?? {};
    if (c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length) throw invalidArgument('IPAM.Config.AuxiliaryAddresses is not supported');
    if (c.Subnet?.includes(':')) throw invalidArgument('IPv6 subnets are not supported');
    const n = await b.networks.create({
      name,
      ...(c.Subnet ? { subnet: c.Subnet } : {}),
      ...(c.Gateway ? { gateway: c.Gateway } : {}),
      ...(c.IPRange ? { ipRange: c.IPRange } : {}),
      internal: !!body.Internal,
      attachable: !!body.Attachable,
      labels: (body.Labels as Record<string, string>) ?? {},
      options: (body.Options as Record<string, string>) ?? {},
    });
    sendJSON(ctx.res, 201, { Id: n.id, Warning: '' });
  });

  r.post('/networks/:id/connect', async (ctx) => {
    const body = (await readJSON(ctx.req)) ?? {};
    const n = b.networks.get(ctx.params.id);
    const c = b.containers.get(String(body.Container ?? ''));
    const ep = (body.EndpointConfig ?? {}) as { IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] }; Aliases?: string[]; MacAddress?: string; Links?: string[]; DriverOpts?: Record<string, string> };
    if (ep.IPAMConfig?.IPv6Address) throw invalidArgument('EndpointConfig.IPAMConfig.IPv6Address is not supported');
    if (ep.IPAMConfig?.LinkLocalIPs?.length) throw invalidArgument('EndpointConfig.IPAMConfig.LinkLocalIPs is not supported');
    if (ep.Links?.length) throw invalidArgument('EndpointConfig.Links is not supported on connect');
    if (ep.DriverOpts && Object.keys(ep.DriverOpts).length) throw invalidArgument('EndpointConfig.DriverOpts is not supported');
    const running = c.state.status === 'running' || c.state.status === 'paused';
    await b.networks.connect({ id: c.id, name: c.name.replace(/^\//, ''), hostname: c.spec.hostname }, running ? c.state.pid : 0, n.id, {
      aliases: ep.Aliases ?? [],
      ...(ep.IPAMConfig?.IPv4Address ? { ip: ep.IPAMConfig.IPv4Address } : {}),
      ...(ep.MacAddress ? { mac: ep.MacAddress } : {}),
    });
    sendJSON(ctx.res, 200, null);
  });

  r.post('/networks/:id/disconnect', async (ctx) => {
    const body = (await readJSON(ctx.req)) ?? {};
    const n = b.networks.get(ctx.params.id);
    const c = b.containers.get(String(body.Container ?? ''));
    await b.networks.disconnect(c.id, n.id);
    sendJSON(ctx.res, 200, null);
  });

  r.post('/networks/prune', async (ctx) => {
    const f = filtersParam(ctx.query);
    checkFilters(f, PRUNE_FILTERS);
    const until = f.get('until')?.map((v) => timestampValue(v, 'until') * 1000);
    const gone = await b.networks.prune((n) => {
      if (until && !until.every((t) => Date.parse(n.created) < t)) return true;
      if (!(f.get('label') ?? []).every((v) => labelMatch(n.labels, v))) return true;
      if ((f.get('label!') ?? []).some((v) => labelMatch(n.labels, v))) return true;
      return false;
    });
    sendJSON(ctx.res, 200, { NetworksDeleted: gone });
  });
}
