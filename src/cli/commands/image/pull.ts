// berth pull, and what push shares with it: reference rules and progress.
import { Writable, type Readable } from 'node:stream';
import { HELP_FLAG, StatusError, type Command, type Context } from '../../command';
import { displayStream, terminalOf } from '../../output/jsonmessage';
import { ReferenceError, fullName, isNameOnly, parseNormalizedNamed, refString, withDefaultTag, type Reference } from '../../../oci/reference';
import { registryAuthHeader } from '../registry/auth';

function parseRef(s: string): Reference {
  try {
    return parseNormalizedNamed(s);
  } catch (e) {
    if (e instanceof ReferenceError) throw new StatusError(1, e.message);
    throw e;
  }
}

const discard = () => new Writable({ write: (_c, _e, cb) => cb() });

// Shows a progress stream on stdout (or nowhere with -q); an error in the
// stream becomes the command's error.
export async function showProgress(ctx: Context, body: Readable, quiet: boolean): Promise<void> {
  if (quiet) await displayStream(body, discard());
  else await displayStream(body, ctx.out, terminalOf(ctx.out));
}

// pull and push share docker's rules: -a takes a bare name; otherwise a
// bare name means ":latest", which docker announces.
export function targetRef(ctx: Context, name: string, all: boolean, quiet: boolean) {
  let ref = parseRef(name);
  if (all && !isNameOnly(ref)) throw new StatusError(1, "tag can't be used with --all-tags/-a");
  if (!all && isNameOnly(ref)) {
    ref = withDefaultTag(ref);
    if (!quiet) ctx.out.write(`Using default tag: ${ref.tag}\n`);
  }
  return { ref, all };
}

export const pullCommand: Command = {
  name: 'pull',
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  summary: 'Download an image from a registry',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', desc: 'Download all tagged images in the repository' },
    // berth verifies no signatures, which is what the default asks for.
    { name: 'disable-content-trust', type: 'bool', default: true, desc: 'Skip image verification', unsupported: true },
    { name: 'platform', type: 'string', desc: 'Set platform if server is multi-platform capable' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress verbose output' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const { ref, all } = targetRef(ctx, p.args[0], f['all-tags'], f.quiet);
    const platform: string = f.platform || ctx.env.DOCKER_DEFAULT_PLATFORM || '';
    const res = await ctx.client().request('POST', '/images/create', {
      query: {
        fromImage: fullName(ref),
        tag: all ? undefined : ref.digest || ref.tag,
        platform: platform ? platform.toLowerCase() : undefined,
      },
      headers: { 'X-Registry-Auth': await registryAuthHeader(ctx, ref.domain) },
    });
    await showProgress(ctx, res.body, f.quiet);
    ctx.out.write(`${refString(ref)}\n`);
    return 0;
  },
};
