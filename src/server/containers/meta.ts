// What the Docker front-end keeps with each container (the engine stores it
// untouched as the record's meta): the create body's Config after the merge
// with the image's config, and its HostConfig as sent, normalised. Inspect
// shows them; commit starts from the Config.
import type { ContainerRecord } from '../../engine/containers/record';
import type { ImageRunConfig } from '../../engine/images/types';

export interface DockerConfig extends ImageRunConfig {
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
  NetworkDisabled?: boolean;
}

export interface DockerHostConfig extends Record<string, unknown> {
  NetworkMode: string;
  AutoRemove: boolean;
  RestartPolicy: { Name: string; MaximumRetryCount?: number };
  LogConfig: { Type: string; Config: Record<string, string> };
  Binds: string[] | null;
  ReadonlyRootfs: boolean;
  Privileged: boolean;
}

export interface DockerMeta {
  Config: DockerConfig;
  HostConfig: DockerHostConfig;
}

// The meta of a record; a container made by another front-end (none yet)
// gets one derived from its spec.
export function dockerMeta(c: ContainerRecord): DockerMeta {
  const m = c.meta as Partial<DockerMeta> | undefined;
  if (m?.Config && m.HostConfig) return m as DockerMeta;
  const p = c.spec.process;
  return {
    Config: {
      Hostname: c.spec.hostname, Domainname: c.spec.domainname, User: p.user, AttachStdin: false, AttachStdout: false, AttachStderr: false,
      Tty: p.terminal, OpenStdin: p.stdin, StdinOnce: p.stdinOnce, Env: p.env, Cmd: p.cmd, Image: c.spec.image.ref, WorkingDir: p.cwd,
      Entrypoint: p.entrypoint, Labels: c.spec.labels,
    },
    HostConfig: {
      NetworkMode: c.spec.network.mode === 'container' ? `container:${c.spec.network.container}` : c.spec.network.mode, AutoRemove: c.spec.autoRemove,
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, LogConfig: { Type: 'k8s-file', Config: {} }, Binds: null,
      ReadonlyRootfs: c.spec.security.readonlyRootfs, Privileged: false,
    },
  };
}
