// berth volume create: docker's request and the volume's name. The
// cluster-volume flags are swarm's (berth has no swarm).
import type { FlagSpec } from '../../args';
import { HELP_FLAG, StatusError, type Command } from '../../command';
import { parseLabels } from '../container/options';
import { parseMapOpts, validateLabel } from '../network/options';

const FLAGS: FlagSpec[] = [
  { name: 'availability', type: 'string', default: 'active', desc: 'Cluster Volume availability ("active", "pause", "drain")', unsupported: true },
  { name: 'driver', short: 'd', type: 'string', default: 'local', desc: 'Specify volume driver name' },
  { name: 'group', type: 'string', desc: 'Cluster Volume group (cluster volumes)', unsupported: true },
  HELP_FLAG,
  { name: 'label', type: 'list', desc: 'Set metadata for a volume', validate: validateLabel },
  { name: 'limit-bytes', type: 'bytes', desc: 'Minimum size of the Cluster Volume in bytes', unsupported: true },
  { name: 'name', type: 'string', desc: 'Specify volume name', hidden: true },
  { name: 'opt', short: 'o', type: 'list', meta: 'map', desc: 'Set driver specific options (default map[])' },
  { name: 'required-bytes', type: 'bytes', desc: 'Maximum size of the Cluster Volume in bytes', unsupported: true },
  { name: 'scope', type: 'string', default: 'single', desc: 'Cluster Volume access scope ("single", "multi")', unsupported: true },
  { name: 'secret', type: 'list', meta: 'map', desc: 'Cluster Volume secrets (default map[])', unsupported: true },
  { name: 'sharing', type: 'string', default: 'none', desc: 'Cluster Volume access sharing ("none", "readonly", "onewriter", "all")', unsupported: true },
  { name: 'topology-preferred', type: 'list', desc: 'A topology that the Cluster Volume would be preferred in', unsupported: true },
  { name: 'topology-required', type: 'list', desc: 'A topology that the Cluster Volume must be accessible from', unsupported: true },
  { name: 'type', type: 'string', default: 'block', desc: 'Cluster Volume access type ("mount", "block")', unsupported: true },
];

export const volumeCreateCommand: Command = {
  name: 'create',
  usage: '[OPTIONS] [VOLUME]',
  summary: 'Create a volume',
  maxArgs: 1,
  flags: FLAGS,
  async run(ctx, p) {
    const f = p.flags;
    let name: string = f.name ?? '';
    if (p.args.length === 1) {
      if (name) throw new StatusError(1, 'conflicting options: cannot specify a volume-name through both --name and as a positional arg');
      name = p.args[0];
    }
    // Go's volume.CreateOptions: every field omitempty.
    const opts = parseMapOpts(f.opt);
    const labels = parseLabels(f.label);
    const body = {
      ...(f.driver ? { Driver: f.driver } : {}),
      ...(Object.keys(opts).length ? { DriverOpts: opts } : {}),
      ...(Object.keys(labels).length ? { Labels: labels } : {}),
      ...(name ? { Name: name } : {}),
    };
    const vol = await ctx.client().json<{ Name: string }>('POST', '/volumes/create', { body });
    ctx.out.write(`${vol.Name}\n`);
  },
};
