// `POST /commit`: the request's config (a container Config, with --change
// lines applied) and the container's own, as the create request kept it.
import { invalidArgument } from '../../errors';
import type { ContainerRecord } from '../../engine/containers/record';
import type { CommitOptions } from '../../engine/containers/commit';
import { applyChanges } from '../../engine/images/changes';
import { checkRunConfig } from '../../engine/images/runconfig';
import { parseReference } from '../../oci/reference';
import type { ImageRunConfig } from '../../engine/images/types';
import { CREATE_FIELDS } from '../compat/fields';
import { validateCreateBody } from './create';
import { dockerMeta } from './meta';

const RUN_FIELDS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'Healthcheck', 'Shell', 'OnBuild'] as const;

// The run config fields of a commit request's body, type-checked (and
// checked for malformed values) like a create body's.
export function commitRequestConfig(body: Record<string, unknown> | undefined): ImageRunConfig {
  if (!body) return {};
  checkRunConfig(body);
  const checked = validateCreateBody(body) as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of RUN_FIELDS) {
    const v = checked[k];
    if (v === undefined) continue;
    if (v !== null) CREATE_FIELDS[`Config.${k}`].validate?.(v, { config: checked, hostConfig: {} });
    out[k] = v;
  }
  return out as ImageRunConfig;
}

export interface CommitQuery {
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  changes: string[];
}

// Everything the request can get wrong fails here, before any work.
export function translateCommit(q: CommitQuery, body: Record<string, unknown> | undefined, container: () => ContainerRecord): CommitOptions {
  let target;
  if (q.repo) {
    target = parseReference(q.tag ? `${q.repo}:${q.tag}` : q.repo);
    if (target.digest) throw invalidArgument('cannot commit to a digest reference');
  } else if (q.tag) {
    throw invalidArgument('a tag needs a repository name');
  }
  const requested = applyChanges(commitRequestConfig(body), q.changes);
  const c = container();
  const Config = { ...dockerMeta(c).Config, Hostname: c.spec.hostname };
  return {
    target,
    comment: q.comment,
    author: q.author,
    requested,
    container: Config,
    containerConfig: Config,
  };
}

