// berth compose up, down, create.
import { L } from '../../../compose/labels';
import { withDependencies } from '../../../compose/plan';
import { StatusError, type Context } from '../../command';
import type { Parsed } from '../../args';
import { composeCommand, guard, loadForServices, loadOrName, runnerFor, selected, useColor } from './common';
import { LogPrinter, streamLogs } from './logprinter';
import type { Runner } from '../../../compose/run';

function pullPolicy(v: string | undefined): 'always' | 'missing' | 'never' | undefined {
  if (!v || v === 'policy') return undefined;
  if (v === 'always' || v === 'missing' || v === 'never') return v;
  throw new StatusError(1, `invalid --pull option "${v}"`);
}

export const composeUpCommand = composeCommand({
  name: 'up',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'Create and start containers',
  flags: [
    { name: 'detach', short: 'd', type: 'bool', desc: 'Detached mode: Run containers in the background' },
    { name: 'build', type: 'bool', desc: 'Build images before starting containers' },
    { name: 'no-build', type: 'bool', desc: 'Don\'t build an image, even if it\'s policy' },
    { name: 'pull', type: 'string', default: 'policy', desc: 'Pull image before running ("always"|"missing"|"never")' },
    { name: 'wait', type: 'bool', desc: 'Wait for services to be running|healthy. Implies detached mode.' },
    { name: 'wait-timeout', type: 'int', desc: 'Maximum duration in seconds to wait for the project to be running|healthy' },
    { name: 'force-recreate', type: 'bool', desc: 'Recreate containers even if their configuration and image haven\'t changed' },
    { name: 'no-recreate', type: 'bool', desc: 'If containers already exist, don\'t recreate them. Incompatible with --force-recreate.' },
    { name: 'remove-orphans', type: 'bool', desc: 'Remove containers for services not defined in the Compose file' },
    { name: 'no-start', type: 'bool', desc: 'Don\'t start the services after creating them' },
    { name: 'no-deps', type: 'bool', desc: 'Don\'t start linked services' },
    { name: 'no-color', type: 'bool', desc: 'Produce monochrome output' },
    { name: 'no-log-prefix', type: 'bool', desc: 'Don\'t print prefix in logs' },
    { name: 'timestamps', type: 'bool', desc: 'Show timestamps' },
    { name: 'timeout', short: 't', type: 'int', desc: 'Use this timeout in seconds for container shutdown when attached or when containers are already running' },
    { name: 'scale', type: 'list', meta: 'scale', desc: 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.' },
    { name: 'abort-on-container-exit', type: 'bool', desc: 'Stops all containers if any container was stopped. Incompatible with -d', unsupported: true },
    { name: 'exit-code-from', type: 'string', desc: 'Return the exit code of the selected service container', unsupported: true },
    { name: 'attach', type: 'list', meta: 'stringArray', desc: 'Restrict attaching to the specified services', unsupported: true },
    // What berth compose always does: a recreated container gets new anonymous volumes.
    { name: 'renew-anon-volumes', short: 'V', type: 'bool', desc: 'Recreate anonymous volumes instead of retrieving data from the previous containers' },
  ],
  async run(ctx, p) {
    const f = p.flags;
    if (f['force-recreate'] && f['no-recreate']) throw new StatusError(1, '--force-recreate and --no-recreate are incompatible');
    if (f.build && f['no-build']) throw new StatusError(1, '--build and --no-build are incompatible');
    const project = loadForServices(ctx, p, p.args);
    for (const s of f.scale as string[]) {
      const [name, n] = s.split('=');
      if (!project.services[name]) throw new StatusError(1, `no such service: ${name}`);
      if (!/^\d+$/.test(n ?? '')) throw new StatusError(1, `invalid --scale value "${s}"`);
      project.services[name].scale = Number(n);
      if (project.services[name].deploy) project.services[name].deploy!.replicas = undefined;
    }
    const names = f['no-deps'] ? selected(project, p.args) : withDependencies(project, selected(project, p.args));
    const runner = runnerFor(ctx, project, p);
    const detach = f.detach || f.wait;
    await guard(async () => {
      const wait = f.wait && f['wait-timeout'] ? withTimeout(runner.up(names, {
        build: f.build, noBuild: f['no-build'], pull: pullPolicy(f.pull), forceRecreate: f['force-recreate'],
        noRecreate: f['no-recreate'], removeOrphans: f['remove-orphans'], noStart: f['no-start'], wait: true,
      }), f['wait-timeout'] * 1000) : runner.up(names, {
        build: f.build, noBuild: f['no-build'], pull: pullPolicy(f.pull), forceRecreate: f['force-recreate'],
        noRecreate: f['no-recreate'], removeOrphans: f['remove-orphans'], noStart: f['no-start'], wait: f.wait,
      });
      await wait;
    });
    if (detach || f['no-start']) return 0;
    return attached(ctx, p, runner, names);
  },
});

function withTimeout<T>(pr: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new StatusError(1, 'timeout waiting for the project to be running|healthy')), ms);
    pr.then((v) => {
      clearTimeout(t);
      resolve(v);
    }, (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

// Attached `up`: every container's output, prefixed, until they all stop;
// Ctrl-C stops them (a second one kills them).
async function attached(ctx: Context, p: Parsed, runner: Runner, names: string[]): Promise<number> {
  const client = ctx.client();
  const printer = new LogPrinter(ctx.out, useColor(ctx, p, p.flags['no-color']), !p.flags['no-log-prefix']);
  const list = (await runner.containers({})).filter((c) => names.includes(c.Labels[L.service]));
  const label = (c: { Labels: Record<string, string> }) => `${c.Labels[L.service]}-${c.Labels[L.number]}`;
  printer.register(list.map(label));
  ctx.err.write('Attaching to ' + list.map(label).join(', ') + '\n');
  let stopping = 0;
  const onInt = () => {
    stopping++;
    if (stopping === 1) {
      ctx.err.write('Gracefully stopping... (press Ctrl+C again to force)\n');
      runner.stop(names, p.flags.timeout || undefined).catch((e) => ctx.err.write(`${(e as Error).message}\n`));
    } else {
      for (const c of list) client.call('POST', `/containers/${c.Id}/kill`).catch(() => undefined);
    }
  };
  process.on('SIGINT', onInt);
  try {
    await Promise.all(list.map(async (c) => {
      const inspect = await client.get<{ Config: { Tty?: boolean } }>(`/containers/${c.Id}/json`);
      const w = printer.writer(label(c));
      await streamLogs(client, c.Id, !!inspect.Config.Tty, w, { follow: true, timestamps: p.flags.timestamps, since: 0 });
      const s = await client.get<{ State: { ExitCode: number } }>(`/containers/${c.Id}/json`).catch(() => undefined);
      if (s) ctx.out.write(`${label(c)} exited with code ${s.State.ExitCode}\n`);
    }));
  } finally {
    process.off('SIGINT', onInt);
  }
  return 0;
}

export const composeDownCommand = composeCommand({
  name: 'down',
  usage: '[OPTIONS] [SERVICES]',
  summary: 'Stop and remove containers, networks',
  flags: [
    { name: 'volumes', short: 'v', type: 'bool', desc: 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers' },
    { name: 'rmi', type: 'string', desc: 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")' },
    { name: 'remove-orphans', type: 'bool', desc: 'Remove containers for services not defined in the Compose file' },
    { name: 'timeout', short: 't', type: 'int', desc: 'Specify a shutdown timeout in seconds' },
  ],
  async run(ctx, p) {
    const f = p.flags;
    if (f.rmi && f.rmi !== 'all' && f.rmi !== 'local') throw new StatusError(1, `invalid value for --rmi: "${f.rmi}"`);
    if (p.args.length) throw new StatusError(1, 'berth compose down SERVICE is not supported yet: use stop and rm');
    const project = loadOrName(ctx, p);
    await guard(() => runnerFor(ctx, project, p).down({ volumes: f.volumes, rmi: f.rmi || undefined, removeOrphans: f['remove-orphans'], timeout: p.changed.has('timeout') ? f.timeout : undefined }));
    return 0;
  },
});

export const composeCreateCommand = composeCommand({
  name: 'create',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'Creates containers for a service',
  flags: [
    { name: 'build', type: 'bool', desc: 'Build images before starting containers' },
    { name: 'no-build', type: 'bool', desc: 'Don\'t build an image, even if it\'s policy' },
    { name: 'pull', type: 'string', default: 'policy', desc: 'Pull image before running ("always"|"missing"|"never")' },
    { name: 'force-recreate', type: 'bool', desc: 'Recreate containers even if their configuration and image haven\'t changed' },
    { name: 'no-recreate', type: 'bool', desc: 'If containers already exist, don\'t recreate them. Incompatible with --force-recreate.' },
    { name: 'remove-orphans', type: 'bool', desc: 'Remove containers for services not defined in the Compose file' },
  ],
  async run(ctx, p) {
    const f = p.flags;
    const project = loadForServices(ctx, p, p.args);
    const names = withDependencies(project, selected(project, p.args));
    await guard(() => runnerFor(ctx, project, p).up(names, {
      build: f.build, noBuild: f['no-build'], pull: pullPolicy(f.pull), forceRecreate: f['force-recreate'], noRecreate: f['no-recreate'], removeOrphans: f['remove-orphans'], noStart: true,
    }));
    return 0;
  },
});
