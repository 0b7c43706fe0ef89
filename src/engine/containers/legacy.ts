// Records written before the engine had a spec of its own were Docker's
// inspect shape (Id, Config, HostConfig, State). They are read once into
// today's record, keeping Config and HostConfig as the meta the Docker API
// front-end stores, so inspect shows them as before. Nothing writes this
// shape any more.
import type { ContainerRecord, Status } from './record';
import { withDefaults } from './spec';

interface LegacyRecord {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  ImageRef: string;
  Path: string;
  Args: string[];
  Config: {
    Hostname?: string; Domainname?: string; User?: string; Tty?: boolean; OpenStdin?: boolean; StdinOnce?: boolean;
    Env?: string[]; Cmd?: string[] | null; Entrypoint?: string[] | null; WorkingDir?: string; Labels?: Record<string, string>;
    StopSignal?: string; StopTimeout?: number;
  };
  HostConfig: { NetworkMode?: string; AutoRemove?: boolean; Runtime?: string; ReadonlyRootfs?: boolean; SecurityOpt?: string[] | null };
  State: { Status: Status; Pid: number; ExitCode: number; Error: string; StartedAt: string; FinishedAt: string; OOMKilled: boolean };
  RestartCount?: number;
  ConmonPid?: number;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

export function isLegacy(raw: object): raw is LegacyRecord {
  return 'Id' in raw && 'Config' in raw && !('spec' in raw);
}

export function fromLegacy(old: LegacyRecord): ContainerRecord {
  const c = old.Config;
  const hc = old.HostConfig;
  const unconfined = (hc.SecurityOpt ?? []).some((o) => /^seccomp[=:]unconfined$/.test(o));
  const spec = withDefaults({
    image: { id: old.Image, ref: old.ImageRef },
    process: {
      // Path and Args were entrypoint ++ cmd already.
      entrypoint: [old.Path],
      cmd: old.Args,
      env: c.Env ?? [],
      cwd: c.WorkingDir ?? '',
      user: c.User ?? '',
      terminal: !!c.Tty,
      stdin: !!c.OpenStdin,
      stdinOnce: !!c.StdinOnce,
    },
    hostname: c.Hostname ?? '',
    domainname: c.Domainname ?? '',
    labels: c.Labels ?? {},
    network: { mode: hc.NetworkMode === 'host' ? 'host' : 'none' },
    security: { readonlyRootfs: !!hc.ReadonlyRootfs, seccomp: { mode: unconfined ? 'unconfined' : 'default' } },
    stop: { signal: c.StopSignal, timeout: c.StopTimeout },
    autoRemove: !!hc.AutoRemove,
    runtime: hc.Runtime || 'runc',
  });
  const s = old.State;
  const time = (t: string) => (!t || t === ZERO_TIME ? '' : t);
  return {
    id: old.Id,
    name: old.Name,
    created: old.Created,
    spec,
    state: { status: s.Status, pid: s.Pid, exitCode: s.ExitCode, error: s.Error, startedAt: time(s.StartedAt), finishedAt: time(s.FinishedAt), oomKilled: !!s.OOMKilled },
    restartCount: old.RestartCount ?? 0,
    conmonPid: old.ConmonPid ?? 0,
    meta: { Config: old.Config, HostConfig: old.HostConfig },
  };
}
