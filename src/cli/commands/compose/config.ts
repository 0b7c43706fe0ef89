// berth compose config: the resolved model.
import { projectToYaml } from '../../../compose/load';
import { composeCommand, loadFromFlags } from './common';

export const composeConfigCommand = composeCommand({
  name: 'config',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'Parse, resolve and render compose file in canonical format',
  flags: [
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only validate the configuration, don\'t print anything' },
    { name: 'services', type: 'bool', desc: 'Print the service names, one per line' },
    { name: 'volumes', type: 'bool', desc: 'Print the volume names, one per line' },
    { name: 'networks', type: 'bool', desc: 'Print the network names, one per line' },
    { name: 'profiles', type: 'bool', desc: 'Print the profile names, one per line' },
    { name: 'images', type: 'bool', desc: 'Print the image names, one per line' },
    { name: 'format', type: 'string', default: 'yaml', desc: 'Format the output. Values: [yaml | json]' },
    { name: 'output', short: 'o', type: 'string', desc: 'Save to file (default to stdout)' },
  ],
  async run(ctx, p) {
    const f = p.flags;
    const project = loadFromFlags(ctx, p);
    if (p.args.length) {
      for (const n of Object.keys(project.services)) if (!p.args.includes(n)) delete project.services[n];
    }
    const lines = (xs: string[]) => ctx.out.write(xs.map((x) => `${x}\n`).join(''));
    if (f.quiet) return 0;
    if (f.services) return void lines(Object.keys(project.services));
    if (f.volumes) return void lines(Object.keys(project.volumes));
    if (f.networks) return void lines(Object.keys(project.networks));
    if (f.profiles) return void lines([...new Set(Object.values({ ...project.services, ...project.disabled }).flatMap((s) => s.profiles ?? []))].sort());
    if (f.images) {
      const { imageName } = await import('../../../compose/plan');
      return void lines(Object.values(project.services).map((s) => imageName(project, s)));
    }
    let text: string;
    if (f.format === 'json') {
      const { working_dir: _w, config_files: _c, disabled: _d, ...rest } = project;
      text = `${JSON.stringify(rest, null, 2)}\n`;
    } else if (f.format === 'yaml') text = projectToYaml(project);
    else throw new Error(`unsupported format "${f.format}"`);
    if (f.output) (await import('node:fs')).writeFileSync(f.output, text);
    else ctx.out.write(text);
    return 0;
  },
});
