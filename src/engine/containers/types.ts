// The persisted container record, shaped like Docker's inspect output so
// the API layer mostly passes it through.
import type { ImageRunConfig } from '../images/types';

export type Status = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerConfig extends ImageRunConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Image: string;
  WorkingDir: string;
  Entrypoint: string[] | null;
  Labels: Record<string, string>;
  StopTimeout?: number;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

export interface HostConfig {
  NetworkMode: string;
  AutoRemove: boolean;
  RestartPolicy: RestartPolicy;
  Runtime: string;
  LogConfig: { Type: string; Config: Record<string, string> };
  Binds: string[] | null;
  ReadonlyRootfs: boolean;
  Privileged: boolean;
  [key: string]: unknown;
}

export interface State {
  Status: Status;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

export interface ContainerRecord {
  Id: string;
  Name: string; // with the leading "/"
  Created: string;
  Path: string;
  Args: string[];
  Image: string; // image id
  ImageRef: string; // as the user gave it
  Config: ContainerConfig;
  HostConfig: HostConfig;
  State: State;
  RestartCount: number;
  LogPath: string;
  HostnamePath: string;
  HostsPath: string;
  ResolvConfPath: string;
  ConmonPid: number;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): State {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}
