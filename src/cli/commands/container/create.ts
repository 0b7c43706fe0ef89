// berth create, and the create request run makes too: --pull, --cidfile and
// the container's name are the client's part, as in docker.
import * as fs from 'node:fs';
import { Writable } from 'node:stream';
import type { ContainerCreateResponse } from '../../../api/types';
import { ClientError } from '../../../client/client';
import type { Parsed } from '../../args';
import { errorText, StatusError, type Command, type Context } from '../../command';
import { pathError } from '../../io';
import { displayStream, terminalOf } from '../../output/jsonmessage';
import { familiarString, fullName, parseNormalizedNamed, withDefaultTag, type Reference } from '../../../oci/reference';
import { registryAuthHeader } from '../registry/auth';
import { buildConfig, CONTAINER_FLAGS, type CreateBody } from './options';

// docker's reportError for run/create: "docker: <err>" plus a hint to --help.
export function runError(cmd: string, err: unknown, status = 125): StatusError {
  return new StatusError(status, `berth: ${errorText(err)}\n\nRun 'berth ${cmd} --help' for more information`);
}

export interface CreateOptions {
  name?: string;
  pull: string;
  quiet: boolean;
  cidfile?: string;
}

export function createOptions(p: Parsed): CreateOptions {
  return { name: p.flags.name, pull: p.flags.pull, quiet: Boolean(p.flags.quiet), cidfile: p.flags.cidfile };
}

// docker's validatePullOpt.
export function checkPullOption(pull: string): void {
  if (!['always', 'missing', 'never', ''].includes(pull)) {
    throw new Error(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  }
}

// The image as a name berth could pull; an id (or a bad reference, which
// the daemon reports) is not.
function pullableRef(image: string): Reference | undefined {
  if (/^(sha256:)?[a-f0-9]{64}$/.test(image)) return undefined;
  try {
    return withDefaultTag(parseNormalizedNamed(image));
  } catch {
    return undefined;
  }
}

const discard = () => new Writable({ write: (_c, _e, cb) => cb() });

// docker's pullImage for run/create: progress on stderr (stdout is for the id).
async function pullImage(ctx: Context, ref: Reference, quiet: boolean): Promise<void> {
  const res = await ctx.client().request('POST', '/images/create', {
    query: { fromImage: fullName(ref), tag: ref.digest || ref.tag },
    headers: { 'X-Registry-Auth': await registryAuthHeader(ctx, ref.domain) },
  });
  if (quiet) await displayStream(res.body, discard());
  else await displayStream(res.body, ctx.err, terminalOf(ctx.err));
}

// docker's cidFile: refuses an existing file, and removes the file it made
// when no id was written to it.
class CIDFile {
  private fd = -1;
  private written = false;

  constructor(readonly path: string | undefined) {
    if (!path) return;
    if (fs.existsSync(path)) throw new Error(`container ID file found, make sure the other container isn't running or delete ${path}`);
    try {
      this.fd = fs.openSync(path, 'w', 0o666);
    } catch (e) {
      throw new Error(`failed to create the container ID file: ${pathError('open', path, e).message}`);
    }
  }

  write(id: string): void {
    if (this.fd < 0) return;
    try {
      fs.writeSync(this.fd, id);
    } catch (e) {
      throw new Error(`failed to write the container ID to the file: ${pathError('write', this.path!, e).message}`);
    }
    this.written = true;
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
    if (!this.written) fs.rmSync(this.path!, { force: true });
  }
}

export async function createContainer(ctx: Context, config: CreateBody, opts: CreateOptions): Promise<string> {
  const cid = new CIDFile(opts.cidfile);
  try {
    const ref = pullableRef(config.Image);
    if (ref && opts.pull === 'always') await pullImage(ctx, ref, opts.quiet);
    const create = () =>
      ctx.client().json<ContainerCreateResponse>('POST', '/containers/create', {
        query: { name: opts.name || undefined },
        body: config,
      });
    let res: ContainerCreateResponse;
    try {
      res = await create();
    } catch (err) {
      if (!(err instanceof ClientError && err.status === 404 && ref && opts.pull === 'missing')) throw err;
      // Docker's default: pull an image that is not here, then try again.
      if (!opts.quiet) ctx.err.write(`Unable to find image '${familiarString(ref)}' locally\n`);
      await pullImage(ctx, ref, opts.quiet);
      res = await create();
    }
    for (const w of res.Warnings ?? []) ctx.err.write(`WARNING: ${w}\n`);
    cid.write(res.Id);
    return res.Id;
  } finally {
    cid.close();
  }
}

export const createCommand: Command = {
  name: 'create',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create a new container',
  interspersed: false,
  minArgs: 1,
  flags: CONTAINER_FLAGS,
  async run(ctx, p) {
    const opts = createOptions(p);
    let config: CreateBody;
    try {
      checkPullOption(opts.pull);
      config = buildConfig(p, ctx.env, { detach: false });
    } catch (err) {
      throw runError('create', err);
    }
    // docker's runCreate returns what createContainer fails with as it is
    // (status 1, no "docker: " and no hint), unlike run's reportError.
    const id = await createContainer(ctx, config, opts);
    ctx.out.write(`${id}\n`);
    return 0;
  },
};
