// Stats and processes of running containers, read from their cgroups (runc
// puts a container where ContainerService's start says, record.cgroup). A sample
// is the engine's own shape; the Docker API's StatsJSON is made in server/.
import { BerthError, conflict } from '../../errors';
import type { Host } from '../../host';
import type { ContainerService } from '../containers/service';
import { isRunning, type ContainerRecord } from '../containers/record';
import type { EventPublisher } from '../events/bus';
import type { CgroupReader, CgroupSample } from './cgroup';
import type { MachineSample } from './machine';
import { parseNetDev, readNetDev, type NetIfStats } from './netdev';

export interface StatsSample {
  read: Date;
  // undefined: the container is not running.
  cgroup?: CgroupSample;
  machine: MachineSample;
  // Per interface, for a container with a network namespace of its own on bridge networks.
  networks?: Record<string, NetIfStats>;
}

export interface StatsDeps {
  host: Pick<Host, 'run'>;
  cgroups: CgroupReader;
  machine: () => Promise<MachineSample>;
  containers: Pick<ContainerService, 'get'>;
  // top is an event too (dockerd's "top").
  events: EventPublisher;
  // Where ps lives; the host's, never a binary from a container.
  ps?: string;
  // /proc/<pid>/net/dev of a container's process.
  netDev?: (pid: number) => Promise<string>;
}

export interface TopResult {
  titles: string[];
  processes: string[][];
}

// Where the container's cgroup was made at start (/berth/<id> for records
// from before it was kept).
export const cgroupOf = (rec: ContainerRecord): string => rec.cgroup ?? `/berth/${rec.id}`;

export class ContainerStats {
  constructor(private d: StatsDeps) {}

  // One sample; throws NotFound for an unknown container.
  async sample(ref: string): Promise<{ rec: ContainerRecord; sample: StatsSample }> {
    const rec = this.d.containers.get(ref);
    const machine = await this.d.machine();
    const read = new Date();
    if (!isRunning(rec.state)) return { rec, sample: { read, machine } };
    try {
      const [cgroup, networks] = await Promise.all([
        this.d.cgroups.read(cgroupOf(rec)),
        rec.spec.network.mode === 'bridge' && rec.state.pid ? (this.d.netDev ?? readNetDev)(rec.state.pid).then(parseNetDev, () => undefined) : undefined,
      ]);
      return { rec, sample: { read, machine, cgroup, ...(networks ? { networks } : {}) } };
    } catch (err) {
      // Exited meanwhile: its cgroup is gone.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { rec, sample: { read, machine } };
      throw err;
    }
  }

  // The container's processes as the host's ps shows them (dockerd's `top`):
  // ps runs with the client's arguments and only the rows of the
  // container's pids are kept.
  async top(ref: string, psArgs: string): Promise<TopResult> {
    const args = psArgs || '-ef';
    validatePsArgs(args);
    const rec = this.d.containers.get(ref);
    // dockerd's words for a container waiting on its restart policy.
    if (rec.state.status === 'restarting') throw conflict(`Container ${rec.id} is restarting, wait until the container is running`);
    if (!isRunning(rec.state)) throw conflict(`container ${rec.id} is not running`);
    let pids: number[];
    try {
      pids = await this.d.cgroups.procs(cgroupOf(rec));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw conflict(`container ${rec.id} is not running`);
      throw err;
    }
    const argv = args.split(' ');
    const ps = this.d.ps ?? 'ps';
    // -q limits ps to the pids (procps); a ps without it gets the full list.
    let r = await this.d.host.run(ps, [...argv, `-q${pids.join(',')}`]);
    if (r.code !== 0) r = await this.d.host.run(ps, argv);
    if (r.code !== 0) {
      const line = r.stderr.split('\n')[0];
      throw new BerthError('Internal', `ps: ${line || `exit status ${r.code}`}`);
    }
    const out = parsePs(r.stdout, pids);
    // The attributes ContainerService gives its events.
    this.d.events.publish('container', 'top', rec.id, { ...rec.spec.labels, image: rec.spec.image.ref, name: rec.name.slice(1) });
    return out;
  }
}

// dockerd refuses to let the client pick which process field is the PID.
export function validatePsArgs(args: string): void {
  for (const m of args.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    // dockerd answers 500 for it (an untyped error).
    if (m[1] !== 'pid') throw new BerthError('Internal', `specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

const fields = (s: string) => s.split(/[\t\n\f\r ]+/).filter(Boolean);

// ps output → the rows whose PID is one of pids. The last column takes the
// rest of the line (a command with spaces); a row whose PID is "-" (a
// thread, with -L or -T) belongs to the process above it.
export function parsePs(output: string, pids: number[]): TopResult {
  const lines = output.split('\n');
  const titles = fields(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new BerthError('Internal', "Couldn't find PID field in ps output");
  const want = new Set(pids);
  const processes: string[][] = [];
  const add = (f: string[]) => processes.push([...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')]);
  let inContainer = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const f = fields(line);
    if (f[pidIndex] === '-') {
      if (inContainer) add(f);
      continue;
    }
    if (!/^-?\d+$/.test(f[pidIndex] ?? '')) throw new BerthError('Internal', `Unexpected pid '${f[pidIndex]}': strconv.Atoi: parsing "${f[pidIndex]}": invalid syntax`);
    inContainer = want.has(Number(f[pidIndex]));
    if (inContainer) add(f);
  }
  return { titles, processes };
}
