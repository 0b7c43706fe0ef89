// The other compose commands: start, stop, restart, rm, kill, pause,
// unpause, build, pull, push, exec, run, top, images, port, events. exec,
// run's attach, top, port, push and events are the container commands'
// own, called with what compose resolved.
import { randomBytes } from 'node:crypto';
import type { ContainerSummary } from '../../../api/types';
import { L } from '../../../compose/labels';
import type { Project } from '../../../compose/model';
import { createBody, imageName, serviceHash, withDependencies } from '../../../compose/plan';
import type { Existing, Runner } from '../../../compose/run';
import { parseArgs, type Parsed } from '../../args';
import { StatusError, type Command, type Context } from '../../command';
import { confirm, isTTY } from '../../io';
import { formatTable } from '../../output/table';
import { humanSize, truncateId } from '../../output/format';
import { buildService, composeCommand, guard, loadForServices, loadFromFlags, runnerFor, selected } from './common';

const cname = (c: Existing | ContainerSummary) => (c.Names?.[0] ?? '').replace(/^\//, '');

async function serviceContainers(ctx: Context, p: Parsed, opts: { all?: boolean } = {}): Promise<{ project: Project; runner: Runner; list: Existing[] }> {
  const project = loadFromFlags(ctx, p);
  for (const a of p.args) if (!project.services[a] && !project.disabled[a]) throw new StatusError(1, `no such service: ${a}`);
  const runner = runnerFor(ctx, project, p);
  let list = await guard(() => runner.containers({ all: opts.all ?? true }));
  if (p.args.length) list = list.filter((c) => p.args.includes(c.Labels[L.service]));
  return { project, runner, list };
}

// One container of a service: --index, else the first.
async function oneContainer(ctx: Context, p: Parsed, service: string, index: number | undefined): Promise<Existing> {
  const project = loadFromFlags(ctx, p);
  if (!project.services[service] && !project.disabled[service]) throw new StatusError(1, `no such service: ${service}`);
  const list = await runnerFor(ctx, project, p).containers({ service, all: true });
  const c = index ? list.find((x) => x.Labels[L.number] === String(index)) : list.sort((a, b) => Number(a.Labels[L.number]) - Number(b.Labels[L.number]))[0];
  if (!c) throw new StatusError(1, `service "${service}" is not running`);
  return c;
}

async function delegate(ctx: Context, load: () => Promise<Command>, argv: string[]): Promise<number> {
  const cmd = await load();
  const r = await cmd.run(ctx, parseArgs(argv, cmd.flags, { interspersed: false }));
  return r ?? 0;
}

export const composeStartCommand = composeCommand({
  name: 'start',
  usage: '[SERVICE...]',
  summary: 'Start services',
  flags: [{ name: 'wait', type: 'bool', desc: 'Wait for services to be running|healthy. Implies detached mode.' }],
  async run(ctx, p) {
    const project = loadFromFlags(ctx, p);
    for (const a of p.args) if (!project.services[a]) throw new StatusError(1, `no such service: ${a}`);
    const runner = runnerFor(ctx, project, p);
    const names = withDependencies(project, selected(project, p.args));
    await guard(async () => {
      await runner.start(names);
      if (p.flags.wait) await runner.waitRunning(names);
    });
    return 0;
  },
});

export const composeStopCommand = composeCommand({
  name: 'stop',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'Stop services',
  flags: [{ name: 'timeout', short: 't', type: 'int', desc: 'Specify a shutdown timeout in seconds' }],
  async run(ctx, p) {
    const project = loadFromFlags(ctx, p);
    for (const a of p.args) if (!project.services[a]) throw new StatusError(1, `no such service: ${a}`);
    await guard(() => runnerFor(ctx, project, p).stop(selected(project, p.args), p.changed.has('timeout') ? p.flags.timeout : undefined));
    return 0;
  },
});

export const composeRestartCommand = composeCommand({
  name: 'restart',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'Restart service containers',
  flags: [
    { name: 'timeout', short: 't', type: 'int', desc: 'Specify a shutdown timeout in seconds' },
    { name: 'no-deps', type: 'bool', desc: 'Don\'t restart dependent services' },
  ],
  async run(ctx, p) {
    const { project, runner, list } = await serviceContainers(ctx, p);
    const { inDependencyOrder } = await import('../../../compose/plan');
    const names = [...new Set(list.map((c) => c.Labels[L.service]))].filter((n) => project.services[n]);
    await guard(() => inDependencyOrder(project, names, async (n) => {
      await Promise.all(list.filter((c) => c.Labels[L.service] === n).map(async (c) => {
        runner.hooks.report('Container', cname(c), 'Restarting');
        await ctx.client().call('POST', `/containers/${c.Id}/restart`, { query: { t: p.changed.has('timeout') ? p.flags.timeout : undefined } });
        runner.hooks.report('Container', cname(c), 'Started');
      }));
    }));
    return 0;
  },
});

export const composeRmCommand = composeCommand({
  name: 'rm',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'Removes stopped service containers',
  flags: [
    { name: 'force', short: 'f', type: 'bool', desc: 'Don\'t ask to confirm removal' },
    { name: 'stop', short: 's', type: 'bool', desc: 'Stop the containers, if required, before removing' },
    { name: 'volumes', short: 'v', type: 'bool', desc: 'Remove any anonymous volumes attached to containers' },
  ],
  async run(ctx, p) {
    const { runner, list } = await serviceContainers(ctx, p);
    if (p.flags.stop) await guard(() => Promise.all(list.map((c) => runner.stopContainer(c))));
    const stopped = p.flags.stop ? list : list.filter((c) => c.State !== 'running' && c.State !== 'restarting' && c.State !== 'paused');
    if (!stopped.length) {
      ctx.err.write('No stopped containers\n');
      return 0;
    }
    if (!p.flags.force && !(await confirm(ctx, `Going to remove ${stopped.map(cname).join(', ')}\nAre you sure?`))) return 0;
    await guard(() => Promise.all(stopped.map((c) => runner.removeContainer({ ...c, State: 'exited' }, { volumes: p.flags.volumes }))));
    return 0;
  },
});

function simple(name: string, summary: string, action: string, status: 'Killed' | 'Paused' | 'Unpaused', extra: Command['flags'] = []) {
  return composeCommand({
    name,
    usage: '[OPTIONS] [SERVICE...]',
    summary,
    flags: extra,
    async run(ctx, p) {
      const { runner, list } = await serviceContainers(ctx, p, { all: false });
      await Promise.all(list.map(async (c) => {
        await ctx.client().call('POST', `/containers/${c.Id}/${action}`, { query: name === 'kill' ? { signal: p.flags.signal } : undefined });
        runner.hooks.report('Container', cname(c), status as never);
      }));
      return 0;
    },
  });
}

export const composeKillCommand = simple('kill', 'Force stop service containers', 'kill', 'Killed', [
  { name: 'signal', short: 's', type: 'string', default: 'SIGKILL', desc: 'SIGNAL to send to the container' },
  { name: 'remove-orphans', type: 'bool', desc: 'Remove containers for services not defined in the Compose file', unsupported: true },
]);
export const composePauseCommand = simple('pause', 'Pause services', 'pause', 'Paused');
export const composeUnpauseCommand = simple('unpause', 'Unpause services', 'unpause', 'Unpaused');

export const composeBuildCommand = composeCommand({
  name: 'build',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'Build or rebuild services',
  flags: [
    { name: 'build-arg', type: 'list', meta: 'stringArray', desc: 'Set build-time variables for services' },
    { name: 'no-cache', type: 'bool', desc: 'Do not use cache when building the image' },
    { name: 'pull', type: 'bool', desc: 'Always attempt to pull a newer version of the image' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Don\'t print anything to STDOUT' },
  ],
  async run(ctx, p) {
    const project = loadForServices(ctx, p, p.args);
    const args: Record<string, string> = {};
    for (const a of p.flags['build-arg'] as string[]) {
      const i = a.indexOf('=');
      if (i < 0) {
        if (ctx.env[a] !== undefined) args[a] = ctx.env[a]!;
      } else args[a.slice(0, i)] = a.slice(i + 1);
    }
    for (const n of selected(project, p.args)) {
      const svc = project.services[n];
      if (!svc.build) continue;
      svc.build.args = { ...svc.build.args, ...args };
      await buildService(ctx, project, svc, imageName(project, svc), p.flags.quiet, { noCache: p.flags['no-cache'], pull: p.flags.pull });
    }
    return 0;
  },
});

export const composePullCommand = composeCommand({
  name: 'pull',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'Pull service images',
  flags: [
    { name: 'ignore-pull-failures', type: 'bool', desc: 'Pull what it can and ignores images with pull failures' },
    { name: 'ignore-buildable', type: 'bool', desc: 'Ignore images that can be built' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Pull without printing progress information' },
  ],
  async run(ctx, p) {
    const project = loadForServices(ctx, p, p.args);
    const runner = runnerFor(ctx, project, p);
    const refs = new Set<string>();
    for (const n of selected(project, p.args)) {
      const svc = project.services[n];
      if (!svc.image || (svc.build && p.flags['ignore-buildable'])) continue;
      refs.add(svc.image);
    }
    const failed: string[] = [];
    await Promise.all([...refs].map(async (ref) => {
      if (!p.flags.quiet) runner.hooks.report('Image', ref, 'Pulling');
      try {
        await runner.hooks.pull(ref);
        if (!p.flags.quiet) runner.hooks.report('Image', ref, 'Pulled');
      } catch (e) {
        if (!p.flags['ignore-pull-failures']) throw e;
        failed.push(ref);
        ctx.err.write(`WARN[0000] ${ref}: ${(e as Error).message}\n`);
      }
    }));
    return 0;
  },
});

export const composePushCommand = composeCommand({
  name: 'push',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'Push service images',
  flags: [
    { name: 'ignore-push-failures', type: 'bool', desc: 'Push what it can and ignores images with push failures' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Push without printing progress information' },
  ],
  async run(ctx, p) {
    const project = loadForServices(ctx, p, p.args);
    for (const n of selected(project, p.args)) {
      const svc = project.services[n];
      if (!svc.image) continue;
      for (const ref of [svc.image, ...(svc.build?.tags ?? [])]) {
        try {
          const status = await delegate(ctx, () => import('../image/push').then((m) => m.pushCommand), [...(p.flags.quiet ? ['-q'] : []), ref]);
          if (status) throw new StatusError(status);
        } catch (e) {
          if (!p.flags['ignore-push-failures']) throw e;
        }
      }
    }
    return 0;
  },
});

export const composeExecCommand = composeCommand({
  name: 'exec',
  usage: '[OPTIONS] SERVICE COMMAND [ARGS...]',
  summary: 'Execute a command in a running container',
  interspersed: false,
  minArgs: 2,
  flags: [
    { name: 'detach', short: 'd', type: 'bool', desc: 'Detached mode: Run command in the background' },
    { name: 'env', short: 'e', type: 'list', meta: 'stringArray', desc: 'Set environment variables' },
    { name: 'index', type: 'int', desc: 'Index of the container if service has multiple replicas' },
    { name: 'no-TTY', short: 'T', type: 'bool', desc: 'Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY.' },
    { name: 'privileged', type: 'bool', desc: 'Give extended privileges to the process' },
    { name: 'user', short: 'u', type: 'string', desc: 'Run the command as this user' },
    { name: 'workdir', short: 'w', type: 'string', desc: 'Path to workdir directory for this command' },
  ],
  async run(ctx, p) {
    const f = p.flags;
    const [service, ...cmd] = p.args;
    const c = await oneContainer(ctx, p, service, f.index || undefined);
    if (c.State !== 'running') throw new StatusError(1, `service "${service}" is not running`);
    const tty = !f['no-TTY'] && isTTY(ctx.in) && isTTY(ctx.out);
    const argv = [
      ...(f.detach ? ['-d'] : ['-i']),
      ...(tty && !f.detach ? ['-t'] : []),
      ...(f.env as string[]).flatMap((e) => ['-e', e]),
      ...(f.user ? ['-u', f.user] : []),
      ...(f.workdir ? ['-w', f.workdir] : []),
      ...(f.privileged ? ['--privileged'] : []),
      c.Id,
      ...cmd,
    ];
    return delegate(ctx, () => import('../container/exec').then((m) => m.execCommand), argv);
  },
});

export const composeRunCommand = composeCommand({
  name: 'run',
  usage: '[OPTIONS] SERVICE [COMMAND] [ARGS...]',
  summary: 'Run a one-off command on a service',
  interspersed: false,
  minArgs: 1,
  flags: [
    { name: 'rm', type: 'bool', desc: 'Automatically remove the container when it exits' },
    { name: 'detach', short: 'd', type: 'bool', desc: 'Run container in background and print container ID' },
    { name: 'env', short: 'e', type: 'list', meta: 'stringArray', desc: 'Set environment variables' },
    { name: 'entrypoint', type: 'string', desc: 'Override the entrypoint of the image' },
    { name: 'label', short: 'l', type: 'list', meta: 'stringArray', desc: 'Add or override a label' },
    { name: 'name', type: 'string', desc: 'Assign a name to the container' },
    { name: 'no-TTY', short: 'T', type: 'bool', desc: 'Disable pseudo-TTY allocation (default: auto-detected)' },
    { name: 'no-deps', type: 'bool', desc: 'Don\'t start linked services' },
    { name: 'service-ports', short: 'P', type: 'bool', desc: 'Run command with all service\'s ports enabled and mapped to the host' },
    { name: 'user', short: 'u', type: 'string', desc: 'Run as specified username or uid' },
    { name: 'workdir', short: 'w', type: 'string', desc: 'Working directory inside the container' },
    { name: 'build', type: 'bool', desc: 'Build image before starting container' },
    { name: 'interactive', short: 'i', type: 'bool', default: true, desc: 'Keep STDIN open even if not attached' },
    { name: 'publish', short: 'p', type: 'list', meta: 'stringArray', desc: 'Publish a container\'s port(s) to the host', unsupported: true },
    { name: 'volume', short: 'v', type: 'list', meta: 'stringArray', desc: 'Bind mount a volume', unsupported: true },
  ],
  async run(ctx, p) {
    const f = p.flags;
    const [service, ...cmd] = p.args;
    const project = loadForServices(ctx, p, [service]);
    const svc = project.services[service];
    const runner = runnerFor(ctx, project, p);
    const deps = f['no-deps'] ? [] : withDependencies(project, [service]).filter((n) => n !== service);
    const tty = f['no-TTY'] ? false : svc.tty ?? (isTTY(ctx.in) && isTTY(ctx.out));
    const stdin = !f.detach && f.interactive;
    const env: Record<string, string> = {};
    for (const e of f.env as string[]) {
      const i = e.indexOf('=');
      if (i < 0) {
        if (ctx.env[e] !== undefined) env[e] = ctx.env[e]!;
      } else env[e.slice(0, i)] = e.slice(i + 1);
    }
    const labels: Record<string, string> = {};
    for (const l of f.label as string[]) {
      const i = l.indexOf('=');
      labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
    }
    const name = f.name || `${project.name}-${service}-run-${randomBytes(6).toString('hex')}`;
    const id = await guard(async () => {
      if (deps.length) await runner.up(deps, { noRecreate: false });
      await runner.ensureImages([service], { build: f.build });
      await runner.ensureNetworks([service]);
      await runner.ensureVolumes([service]);
      await runner.waitDependencies(svc, deps);
      const existing = await runner.containers({ service, oneoff: true });
      const { body } = createBody(project, svc, {
        number: existing.length + 1,
        oneoff: true,
        name,
        hash: serviceHash(svc),
        command: cmd.length ? cmd : undefined,
        entrypoint: f.entrypoint !== undefined ? (await import('../../../compose/values')).shellSplit(f.entrypoint, '--entrypoint') : undefined,
        env,
        labels,
        tty,
        stdin,
        user: f.user || undefined,
        workdir: f.workdir || undefined,
        noPorts: !f['service-ports'],
        aliases: false,
      });
      if (f.rm && f.detach) throw new StatusError(1, '--rm and -d cannot be combined');
      (body.HostConfig as Record<string, unknown>).AutoRemove = !!f.rm;
      return (await ctx.client().json<{ Id: string }>('POST', '/containers/create', { query: { name }, body })).Id;
    });
    if (f.detach) {
      await ctx.client().call('POST', `/containers/${id}/start`);
      ctx.out.write(`${name}\n`);
      return 0;
    }
    return delegate(ctx, () => import('../container/start').then((m) => m.startCommand), ['-a', ...(stdin ? ['-i'] : []), id]);
  },
});

export const composeTopCommand = composeCommand({
  name: 'top',
  usage: '[SERVICES...]',
  summary: 'Display the running processes',
  flags: [],
  async run(ctx, p) {
    const { list } = await serviceContainers(ctx, p, { all: false });
    const { topTable } = await import('../container/top');
    for (const c of list) {
      const r = await ctx.client().get(`/containers/${c.Id}/top`);
      ctx.out.write(`${cname(c)}\n${topTable(r)}\n`);
    }
    return 0;
  },
});

export const composeImagesCommand = composeCommand({
  name: 'images',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'List images used by the created containers',
  flags: [
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only display IDs' },
    { name: 'format', type: 'string', default: 'table', desc: 'Format the output. Values: [table | json]' },
  ],
  async run(ctx, p) {
    const { list } = await serviceContainers(ctx, p);
    const rows = [['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE']];
    const json: unknown[] = [];
    const ids: string[] = [];
    for (const c of list) {
      const img = await ctx.client().get<{ Id: string; RepoTags?: string[]; Size?: number }>(`/images/${c.ImageID}/json`).catch(() => undefined);
      if (!img) continue;
      const tag = img.RepoTags?.[0] ?? '<none>:<none>';
      const i = tag.lastIndexOf(':');
      const repo = i < 0 ? tag : tag.slice(0, i);
      const t = i < 0 ? '' : tag.slice(i + 1);
      ids.push(img.Id);
      rows.push([cname(c), repo, t, truncateId(img.Id), humanSize(img.Size ?? 0)]);
      json.push({ ID: img.Id, ContainerName: cname(c), Repository: repo, Tag: t, Size: img.Size ?? 0 });
    }
    if (p.flags.quiet) ctx.out.write([...new Set(ids)].map((i) => `${i}\n`).join(''));
    else if (p.flags.format === 'json') ctx.out.write(`${JSON.stringify(json)}\n`);
    else ctx.out.write(formatTable(rows));
    return 0;
  },
});

export const composePortCommand = composeCommand({
  name: 'port',
  usage: '[OPTIONS] SERVICE PRIVATE_PORT',
  summary: 'Print the public port for a port binding',
  minArgs: 2,
  maxArgs: 2,
  flags: [
    { name: 'index', type: 'int', desc: 'Index of the container if service has multiple replicas' },
    { name: 'protocol', type: 'string', default: 'tcp', desc: 'tcp or udp' },
  ],
  async run(ctx, p) {
    const [service, port] = p.args;
    const c = await oneContainer(ctx, p, service, p.flags.index || undefined);
    const info = await ctx.client().get<{ NetworkSettings?: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> } }>(`/containers/${c.Id}/json`);
    const b = info.NetworkSettings?.Ports?.[`${port}/${p.flags.protocol}`]?.[0];
    if (!b) throw new StatusError(1, `no port ${port}/${p.flags.protocol} for container ${cname(c)}`);
    ctx.out.write(`${b.HostIp || '0.0.0.0'}:${b.HostPort}\n`);
    return 0;
  },
});

export const composeEventsCommand = composeCommand({
  name: 'events',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'Receive real time events from containers',
  flags: [
    { name: 'json', type: 'bool', desc: 'Output events as a stream of json objects' },
    { name: 'since', type: 'string', desc: 'Show all events created since timestamp' },
    { name: 'until', type: 'string', desc: 'Stream events until this timestamp' },
  ],
  async run(ctx, p) {
    const project = loadFromFlags(ctx, p);
    const argv = ['--filter', `label=${L.project}=${project.name}`, '--filter', 'type=container'];
    for (const s of p.args) argv.push('--filter', `label=${L.service}=${s}`);
    if (p.flags.json) argv.push('--format', 'json');
    if (p.flags.since) argv.push('--since', p.flags.since);
    if (p.flags.until) argv.push('--until', p.flags.until);
    return delegate(ctx, () => import('../system/events').then((m) => m.eventsCommand), argv);
  },
});
