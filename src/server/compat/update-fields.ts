// What berth does with each field of an update body (`POST
// /containers/{id}/update`, UpdateConfig in the 1.51 spec: Resources and
// RestartPolicy). As for create: values are type-checked from the table, a
// field the table does not know is refused unless zero, and
// docs/COMPATIBILITY.md is generated from it; a unit test keeps it in step
// with the spec. dockerd ignores most fields an update cannot change; berth
// refuses them by name instead.
import { invalidArgument } from '../../errors';
import { checkType, isZero, notSupported, validateRestartPolicy, type FieldRule } from './fields';

const applied = (type: FieldRule['type'], note?: string): FieldRule => ({ type, status: 'applied', note });
const refused = (type: FieldRule['type'], note: string, extra: Partial<FieldRule> = {}): FieldRule => ({ type, status: 'refused', note, ...extra });
const CREATE_ONLY = 'applied at create only (`docker update` does not send it)';
const WINDOWS = 'Windows only';

export const UPDATE_FIELDS: Record<string, FieldRule> = {
  CpuShares: applied('integer', 'cpu.shares; 0 leaves it as it was'),
  Memory: applied('integer', 'memory.limit_in_bytes; above the swap already set only with a new MemorySwap, as in dockerd'),
  NanoCpus: applied('integer', 'a CFS quota over 100ms; not once CpuPeriod or CpuQuota is set, as in dockerd'),
  CgroupParent: refused('string', CREATE_ONLY),
  BlkioWeight: applied('integer', 'where the I/O scheduler has weights; otherwise dropped with dockerd\'s warning'),
  BlkioWeightDevice: refused('array', CREATE_ONLY),
  BlkioDeviceReadBps: refused('array', CREATE_ONLY),
  BlkioDeviceWriteBps: refused('array', CREATE_ONLY),
  BlkioDeviceReadIOps: refused('array', CREATE_ONLY),
  BlkioDeviceWriteIOps: refused('array', CREATE_ONLY),
  CpuPeriod: applied('integer', 'cpu.cfs_period_us; not once NanoCpus is set'),
  CpuQuota: applied('integer', 'cpu.cfs_quota_us; not once NanoCpus is set'),
  CpuRealtimePeriod: refused('integer', 'real-time scheduling needs the daemon\'s --cpu-rt-runtime, which berthd does not have'),
  CpuRealtimeRuntime: refused('integer', 'real-time scheduling needs the daemon\'s --cpu-rt-runtime, which berthd does not have'),
  CpusetCpus: applied('string', 'cpuset.cpus; "" leaves it as it was'),
  CpusetMems: applied('string', 'cpuset.mems; "" leaves it as it was'),
  Devices: refused('array', CREATE_ONLY),
  DeviceCgroupRules: refused('strings', CREATE_ONLY),
  DeviceRequests: refused('array', CREATE_ONLY),
  KernelMemoryTCP: refused('integer', 'deprecated by Docker and not applied by cgroup v2'),
  MemoryReservation: applied('integer', 'memory.soft_limit_in_bytes'),
  MemorySwap: applied('integer', 'memory plus swap; -1 is unlimited'),
  MemorySwappiness: refused('integer', CREATE_ONLY, { zero: [-1] }),
  OomKillDisable: refused('boolean', CREATE_ONLY),
  Init: refused('boolean', CREATE_ONLY),
  PidsLimit: applied('integer', 'pids.max; 0 and -1 are unlimited; ignored below API 1.40, as in dockerd'),
  Ulimits: refused('array', CREATE_ONLY),
  CpuCount: { type: 'integer', status: 'ignored', note: WINDOWS },
  CpuPercent: { type: 'integer', status: 'ignored', note: WINDOWS },
  IOMaximumIOps: { type: 'integer', status: 'ignored', note: WINDOWS },
  IOMaximumBandwidth: { type: 'integer', status: 'ignored', note: WINDOWS },
  RestartPolicy: applied('object', 'a `Name` replaces the policy (with its `MaximumRetryCount`) for the next exit; not for an `AutoRemove` container (409, as dockerd)'),
};

// Types, then refusals by name: of fields the table does not know, of
// refused ones and of Windows-only ones, unless zero.
export function checkUpdateBody(body: Record<string, unknown>): void {
  for (const [field, v] of Object.entries(body)) {
    const rule = UPDATE_FIELDS[field];
    if (!rule) {
      if (!isZero(v)) throw invalidArgument(`unknown field ${field}`);
      continue;
    }
    checkType(field, v, rule.type);
    if (field === 'RestartPolicy' && v) validateRestartPolicy(v as Record<string, unknown>, 'RestartPolicy');
    if (v === null || v === undefined || isZero(v, rule.type) || rule.zero?.includes(v)) continue;
    if (rule.status === 'refused' || rule.status === 'ignored') {
      throw notSupported(field);
    }
  }
}
