// berth push
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { fullName, refString } from '../../../oci/reference';
import { registryAuthHeader } from '../registry/auth';
import { showProgress, targetRef } from './pull';

export const pushCommand: Command = {
  name: 'push',
  usage: '[OPTIONS] NAME[:TAG]',
  summary: 'Upload an image to a registry',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', desc: 'Push all tags of an image to the repository' },
    // berth signs nothing, which is what the default asks for.
    { name: 'disable-content-trust', type: 'bool', default: true, desc: 'Skip image signing', unsupported: true },
    { name: 'platform', type: 'string', desc: 'Push a platform-specific manifest as a single-platform image to the registry.\nImage index won\'t be pushed, meaning that other manifests, including attestations won\'t be preserved.\n\'os[/arch[/variant]]\': Explicit platform (eg. linux/amd64)', unsupported: true },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Suppress verbose output' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const { ref, all } = targetRef(ctx, p.args[0], f['all-tags'], f.quiet);
    if (ref.digest) throw new StatusError(1, 'cannot push a digest reference');
    const path = `/images/${fullName(ref).split('/').map(encodeURIComponent).join('/')}/push`;
    const res = await ctx.client().request('POST', path, {
      query: { tag: all ? undefined : ref.tag },
      headers: { 'X-Registry-Auth': await registryAuthHeader(ctx, ref.domain) },
    });
    await showProgress(ctx, res.body, f.quiet);
    if (f.quiet) ctx.out.write(`${refString(ref)}\n`);
    return 0;
  },
};
