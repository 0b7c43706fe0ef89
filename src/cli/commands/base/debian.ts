// berth base debian
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { importTar } from '../image/import';

export const baseDebianCommand: Command = {
  name: 'debian',
  usage: '[OPTIONS]',
  summary: "Build a Debian base image with mmdebstrap (needs Debian's archive)",
  maxArgs: 0,
  flags: [
    { name: 'suite', type: 'string', default: 'bookworm', desc: 'Debian release (bookworm, trixie, stable, ...)' },
    { name: 'tag', type: 'string', desc: 'Name and tag for the image (default "debian:SUITE")' },
    { name: 'variant', type: 'string', default: 'minbase', desc: "mmdebstrap variant (minbase, apt, required, important, standard)" },
    { name: 'mirror', type: 'string', desc: 'Debian mirror URL (default: mmdebstrap\'s, from the host\'s apt sources)' },
    { name: 'arch', type: 'string', desc: 'Architecture (default: the host\'s)' },
    { name: 'include', type: 'list', desc: 'Extra packages to install' },
    HELP_FLAG,
  ],
  async run(ctx, p) {
    const f = p.flags;
    const { debianTar, MissingToolError } = await import('../../base/debian');
    const { tar, child, started } = debianTar({ suite: f.suite, variant: f.variant, mirror: f.mirror, arch: f.arch, include: f.include, stderr: ctx.err });
    try {
      await started;
    } catch (err) {
      if (err instanceof MissingToolError) throw new StatusError(1, `berth: ${err.message}`);
      throw err;
    }
    try {
      await importTar(ctx, tar, f.tag || `debian:${f.suite}`, { changes: ['CMD ["bash"]'], message: `mmdebstrap --variant=${f.variant} ${f.suite}` });
    } catch (err) {
      if (child.exitCode === null) child.kill('SIGTERM');
      throw err;
    }
    return 0;
  },
};
