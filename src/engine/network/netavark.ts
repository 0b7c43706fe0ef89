// netavark (with aardvark-dns) wires one container into one bridge network:
// bridge, veth, addresses, NAT, isolation, port DNAT and the network's DNS
// records. It is handed what berth decided (addresses, MAC, ports) as the
// JSON podman sends it, and gives back what it made.
import type { Host } from '../../host';
import type { Attachment, NetworkRecord } from './types';

export const NETAVARK = '/usr/lib/podman/netavark';
export const AARDVARK = '/usr/lib/podman/aardvark-dns';

// netavark runs under this host-wide lock (util-linux flock), one at a
// time: its iptables chains (NETAVARK_FORWARD, …) are the host's, and two
// setups at once, in one daemon or two, race to make them ("Chain already
// exists"). podman serializes its netavark calls the same way. `-o`: the
// lock's fd is closed for netavark, so the aardvark-dns it leaves running
// does not keep holding it.
export const LOCK = '/run/lock/berth-netavark.lock';
const FLOCK = '/usr/bin/flock';
const NICE = '/usr/bin/nice';
export const BACKGROUND_NICE = 10;

export interface CallOptions {
  background?: boolean;
}

// netavark looks its iptables up on PATH: a short one saves the misses.
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

export interface NetavarkContainer {
  id: string;
  name: string;
}

export class Netavark {
  constructor(private host: Host, private opts: { configDir: string; binary?: string; aardvark?: string; log?: (msg: string) => void }) {}

  // One container on one or more networks: netavark wires them all in one
  // run (one process, one pass over the firewall, one DNS reload).
  private options(c: NetavarkContainer, nets: { a: Attachment; n: NetworkRecord }[]): string {
    const networks: Record<string, unknown> = {};
    const info: Record<string, unknown> = {};
    for (const { a, n } of nets) {
      const netOptions: Record<string, string> = { isolate: 'true' };
      if (n.mtu) netOptions.mtu = String(n.mtu);
      // Each network's default route gets its own metric (eth0 100, eth1 101, …),
      // as podman does: with the same metric a second network's setup fails
      // with "add default route …: File exists", and eth0's stays the one used.
      const index = /^eth(\d+)$/.exec(a.iface)?.[1];
      if (index && index !== '0') netOptions.metric = String(100 + Number(index));
      networks[n.name] = {
        static_ips: [a.ip],
        aliases: a.aliases,
        interface_name: a.iface,
        ...(a.mac ? { static_mac: a.mac } : {}),
      };
      info[n.name] = {
        name: n.name,
        id: n.id,
        driver: 'bridge',
        network_interface: n.bridge,
        subnets: [{ subnet: n.subnet, gateway: n.gateway }],
        ipv6_enabled: false,
        internal: n.internal,
        dns_enabled: n.dns,
        options: netOptions,
      };
    }
    return JSON.stringify({
      container_id: c.id,
      container_name: c.name,
      port_mappings: nets.flatMap(({ a }) => a.ports).map((p) => ({ host_ip: p.hostIP, container_port: p.containerPort, host_port: p.hostPort, range: 1, protocol: p.protocol })),
      networks,
      network_info: info,
    });
  }

  // background: work no caller waits for (the pool, a teardown after an
  // exit) runs at a lower priority, so it takes less from the containers
  // being started on a busy machine.
  private async call(verb: 'setup' | 'teardown', netns: string, input: string, o: CallOptions = {}): Promise<string> {
    const args = ['-o', LOCK, this.opts.binary ?? NETAVARK, '--config', this.opts.configDir, '--aardvark-binary', this.opts.aardvark ?? AARDVARK, verb, netns];
    const t0 = Date.now();
    const r = o.background ? await this.host.run(NICE, ['-n', String(BACKGROUND_NICE), FLOCK, ...args], { input, env: ENV, timeoutMs: 60000 }) : await this.host.run(FLOCK, args, { input, env: ENV, timeoutMs: 30000 });
    this.opts.log?.(`netavark ${verb} ${Date.now() - t0}ms`);
    if (r.code !== 0) {
      let msg = r.stdout.trim() || r.stderr.trim();
      try {
        msg = JSON.parse(msg).error ?? msg;
      } catch {
        // not JSON: as printed
      }
      throw new Error(`netavark ${verb}: ${msg}`);
    }
    return r.stdout;
  }

  // Returns the MAC address the container's interface got.
  async setup(netns: string, c: NetavarkContainer, a: Attachment, n: NetworkRecord, o: CallOptions = {}): Promise<string> {
    return (await this.setupAll(netns, c, [{ a, n }], o))[0];
  }

  // Several networks of one container in one run: the MAC of each.
  async setupAll(netns: string, c: NetavarkContainer, nets: { a: Attachment; n: NetworkRecord }[], o: CallOptions = {}): Promise<string[]> {
    const out = await this.call('setup', netns, this.options(c, nets), o);
    let parsed: Record<string, { interfaces?: Record<string, { mac_address?: string }> }> = {};
    try {
      parsed = JSON.parse(out);
    } catch {
      // no status: the MACs asked for
    }
    return nets.map(({ a, n }) => parsed[n.name]?.interfaces?.[a.iface]?.mac_address ?? a.mac);
  }

  async teardown(netns: string, c: NetavarkContainer, a: Attachment, n: NetworkRecord, o: CallOptions = {}): Promise<void> {
    await this.call('teardown', netns, this.options(c, [{ a, n }]), o);
  }
}
