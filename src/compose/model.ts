// The resolved project: every file loaded, interpolated, merged, extended
// and normalised into the Compose Specification's long syntax, with the
// spec's key names (so `berth compose config` prints it as it is).

export interface Project {
  name: string;
  working_dir: string; // not printed by config; the project directory
  config_files: string[];
  services: Record<string, Service>;
  networks: Record<string, Network>;
  volumes: Record<string, Volume>;
  secrets: Record<string, FileObject>;
  configs: Record<string, FileObject>;
  // Services left out by their profiles (kept for `run` of a named one and orphan checks).
  disabled: Record<string, Service>;
}

export interface Port {
  mode: 'ingress' | 'host';
  host_ip?: string;
  target: number;
  published?: string; // a port or a range, as written
  protocol: 'tcp' | 'udp' | 'sctp';
  name?: string;
  app_protocol?: string;
}

export interface ServiceVolume {
  type: 'volume' | 'bind' | 'tmpfs';
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { create_host_path?: boolean; propagation?: string; selinux?: string };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number; mode?: number };
  consistency?: string;
}

export interface DependsOn {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  restart: boolean;
  required: boolean;
}

export interface ServiceNetwork {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  priority?: number;
}

export interface Healthcheck {
  test?: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
  start_interval?: string;
  disable?: boolean;
}

export interface Build {
  context: string;
  dockerfile?: string;
  dockerfile_inline?: string;
  args?: Record<string, string | null>;
  target?: string;
  labels?: Record<string, string>;
  network?: string;
  no_cache?: boolean;
  pull?: boolean;
  extra_hosts?: Record<string, string>;
  tags?: string[];
}

export interface FileRef {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface Resources {
  cpus?: number;
  memory?: number;
  pids?: number;
}

export interface Deploy {
  replicas?: number;
  resources?: { limits?: Resources; reservations?: Resources };
  restart_policy?: { condition?: string; max_attempts?: number };
}

export interface Service {
  name: string;
  image?: string;
  build?: Build;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment: Record<string, string | null>;
  labels: Record<string, string>;
  ports: Port[];
  expose: string[];
  networks?: Record<string, ServiceNetwork | null>;
  network_mode?: string;
  volumes: ServiceVolume[];
  tmpfs?: string[];
  secrets: FileRef[];
  configs: FileRef[];
  depends_on: Record<string, DependsOn>;
  healthcheck?: Healthcheck;
  restart?: string;
  deploy?: Deploy;
  init?: boolean;
  user?: string;
  working_dir?: string;
  stop_grace_period?: string;
  stop_signal?: string;
  scale?: number;
  profiles?: string[];
  container_name?: string;
  hostname?: string;
  domainname?: string;
  privileged?: boolean;
  read_only?: boolean;
  tty?: boolean;
  stdin_open?: boolean;
  cap_add?: string[];
  cap_drop?: string[];
  extra_hosts?: Record<string, string>;
  dns?: string[];
  dns_search?: string[];
  mem_limit?: number;
  cpus?: number;
  pids_limit?: number;
  pull_policy?: string;
  platform?: string;
  shm_size?: number;
  sysctls?: Record<string, string>;
  ulimits?: Record<string, { soft: number; hard: number }>;
  group_add?: string[];
  security_opt?: string[];
  mac_address?: string;
  pid?: string;
  ipc?: string;
  logging?: { driver?: string; options?: Record<string, string> };
  links?: string[];
}

export interface Network {
  name: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  external?: boolean;
  internal?: boolean;
  attachable?: boolean;
  enable_ipv6?: boolean;
  ipam?: { driver?: string; config?: { subnet?: string; ip_range?: string; gateway?: string }[] };
  labels?: Record<string, string>;
}

export interface Volume {
  name: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  external?: boolean;
  labels?: Record<string, string>;
}

export interface FileObject {
  name: string;
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean;
}
