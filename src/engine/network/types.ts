// The network subsystem's records, in the engine's words.

export interface NetworkRecord {
  id: string; // 64 hex
  name: string;
  driver: 'bridge' | 'host' | 'null';
  created: string;
  // bridge only:
  bridge?: string; // the host interface
  subnet?: string; // CIDR
  gateway?: string;
  ipRange?: string; // where dynamic addresses come from
  userSubnet?: boolean; // --subnet given: static addresses allowed
  internal: boolean;
  attachable?: boolean; // as created (network create --attachable)
  dns: boolean; // an embedded DNS server (user networks)
  mtu?: number;
  labels: Record<string, string>;
  options: Record<string, string>;
  // The default `bridge`, `host`, `none`: never removed.
  predefined: boolean;
  // What keeps the bridge up between containers (service.ts, anchor()).
  anchor?: { netns: string; ip: string; mac: string };
}

export interface PortMapping {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP: string; // "" = every address
  hostPort: number; // resolved (never 0 once attached)
}

// One network a container is on while it runs.
export interface Attachment {
  network: string; // id
  iface: string; // eth0, eth1, …
  ip: string;
  prefix: number;
  gateway: string;
  mac: string;
  aliases: string[];
  endpointId: string;
  ports: PortMapping[]; // the primary network's only
  // The container id netavark wired it under, when not the container's
  // own (a pooled namespace, service.ts): its teardown must say the same.
  wiredAs?: string;
}

// A network namespace wired in advance on the default bridge, handed to
// the next plain container (service.ts, the pool).
export interface PoolEntry {
  key: string; // 12 hex
  network: string; // the default bridge's id
  netns: string; // <exec-root>/netns/pool-<key>
  attachment: Attachment; // eth0, its address and MAC; wiredAs berth-pool-<key>
  ready: boolean; // netavark's setup is done
}

// What a container asked for on one network (create, or connect).
export interface EndpointConfig {
  network: string; // id, or the name as asked when no such network existed
  name: string; // the network's name when asked
  ip?: string;
  mac?: string;
  aliases: string[];
}

// Everything networking keeps for one container.
export interface ContainerNet {
  id: string;
  name: string;
  hostname: string;
  mode: 'bridge' | 'none' | 'host' | 'container';
  endpoints: EndpointConfig[];
  ports: PortMapping[]; // as asked (hostPort 0: ephemeral)
  // While running: the pinned netns and what is wired in it.
  netns?: string;
  attached: Attachment[];
}
