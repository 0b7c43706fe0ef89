// berth compose ps and logs.
import type { ContainerSummary } from '../../../api/types';
import { L } from '../../../compose/labels';
import { StatusError } from '../../command';
import { ellipsis, since } from '../../output/format';
import { formatTable } from '../../output/table';
import { displayPorts } from '../container/list';
import { toTimestamp } from '../container/logs';
import { composeCommand, guard, loadOrName, runnerFor, useColor } from './common';
import { LogPrinter, streamLogs } from './logprinter';

export const composePsCommand = composeCommand({
  name: 'ps',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'List containers',
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Show all stopped containers (including those created by the run command)' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only display IDs' },
    { name: 'services', type: 'bool', desc: 'Display services' },
    { name: 'status', type: 'list', meta: 'stringArray', desc: 'Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]' },
    { name: 'format', type: 'string', default: 'table', desc: 'Format output using a custom template:\n\'table\':            Print output in table format with column headers (default)\n\'json\':             Print in JSON format' },
    { name: 'no-trunc', type: 'bool', desc: 'Don\'t truncate output' },
  ],
  async run(ctx, p) {
    const f = p.flags;
    const project = loadOrName(ctx, p);
    const runner = runnerFor(ctx, project, p);
    let list = (await guard(() => runner.containers({ oneoff: f.all ? 'any' : false, all: true }))) as unknown as ContainerSummary[];
    if (!f.all) list = list.filter((c) => c.State === 'running' || c.State === 'restarting' || c.State === 'paused');
    if (p.args.length) {
      for (const a of p.args) if (!project.services[a] && !project.disabled[a]) throw new StatusError(1, `no such service: ${a}`);
      list = list.filter((c) => p.args.includes(c.Labels?.[L.service] ?? ''));
    }
    if ((f.status as string[]).length) list = list.filter((c) => (f.status as string[]).includes(c.State ?? ''));
    if (f.quiet) return void ctx.out.write(list.map((c) => `${c.Id}\n`).join(''));
    if (f.services) return void ctx.out.write([...new Set(list.map((c) => c.Labels?.[L.service]))].map((s) => `${s}\n`).join(''));
    const name = (c: ContainerSummary) => (c.Names?.[0] ?? '').replace(/^\//, '');
    if (f.format === 'json') {
      for (const c of list) {
        ctx.out.write(`${JSON.stringify({
          ID: c.Id, Name: name(c), Image: c.Image, Command: c.Command, Project: project.name, Service: c.Labels?.[L.service],
          Created: c.Created, State: c.State, Status: c.Status, Health: /\((healthy|unhealthy|health: starting)\)/.exec(c.Status ?? '')?.[1]?.replace('health: ', '') ?? '',
          ExitCode: Number(/Exited \((\d+)\)/.exec(c.Status ?? '')?.[1] ?? 0), Labels: c.Labels, Ports: displayPorts(c.Ports ?? []), Publishers: (c.Ports ?? []).map((x) => ({ URL: x.IP ?? '', TargetPort: x.PrivatePort, PublishedPort: x.PublicPort ?? 0, Protocol: x.Type })),
        })}\n`);
      }
      return 0;
    }
    if (f.format !== 'table') throw new StatusError(1, `berth compose ps: --format "${f.format}" is not supported yet (table or json)`);
    const rows = [['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS']];
    for (const c of list) {
      const cmd = f['no-trunc'] ? c.Command ?? '' : ellipsis(c.Command ?? '', 20);
      rows.push([name(c), c.Image ?? '', `"${cmd}"`, c.Labels?.[L.service] ?? '', since(c.Created ?? 0), c.Status ?? '', displayPorts(c.Ports ?? [])]);
    }
    ctx.out.write(formatTable(rows, { minWidth: 10, padding: 3 }));
    return 0;
  },
});

export const composeLogsCommand = composeCommand({
  name: 'logs',
  usage: '[OPTIONS] [SERVICE...]',
  summary: 'View output from containers',
  flags: [
    { name: 'follow', short: 'f', type: 'bool', desc: 'Follow log output' },
    { name: 'no-color', type: 'bool', desc: 'Produce monochrome output' },
    { name: 'no-log-prefix', type: 'bool', desc: 'Don\'t print prefix in logs' },
    { name: 'since', type: 'string', desc: 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
    { name: 'until', type: 'string', desc: 'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
    { name: 'tail', short: 'n', type: 'string', default: 'all', desc: 'Number of lines to show from the end of the logs for each container' },
    { name: 'timestamps', short: 't', type: 'bool', desc: 'Show timestamps' },
    { name: 'index', type: 'int', desc: 'index of the container if service has multiple replicas' },
  ],
  async run(ctx, p) {
    const f = p.flags;
    const project = loadOrName(ctx, p);
    for (const a of p.args) if (!project.services[a] && !project.disabled[a]) throw new StatusError(1, `no such service: ${a}`);
    const runner = runnerFor(ctx, project, p);
    let list = await guard(() => runner.containers({ oneoff: false }));
    if (p.args.length) list = list.filter((c) => p.args.includes(c.Labels[L.service]));
    if (f.index) list = list.filter((c) => c.Labels[L.number] === String(f.index));
    const printer = new LogPrinter(ctx.out, useColor(ctx, p, f['no-color']), !f['no-log-prefix']);
    const label = (c: { Labels: Record<string, string> }) => `${c.Labels[L.service]}-${c.Labels[L.number]}`;
    printer.register(list.map(label));
    const client = ctx.client();
    await Promise.all(list.map(async (c) => {
      const inspect = await client.get<{ Config: { Tty?: boolean } }>(`/containers/${c.Id}/json`);
      await streamLogs(client, c.Id, !!inspect.Config.Tty, printer.writer(label(c)), {
        follow: f.follow,
        timestamps: f.timestamps,
        tail: f.tail,
        since: f.since ? toTimestamp(f.since) : undefined,
        until: f.until ? toTimestamp(f.until) : undefined,
      });
    }));
    return 0;
  },
});

export const composeLsCommand = composeCommand({
  name: 'ls',
  usage: '[OPTIONS]',
  summary: 'List running compose projects',
  maxArgs: 0,
  flags: [
    { name: 'all', short: 'a', type: 'bool', desc: 'Show all stopped Compose projects' },
    { name: 'quiet', short: 'q', type: 'bool', desc: 'Only display project names' },
    { name: 'format', type: 'string', default: 'table', desc: 'Format the output. Values: [table | json]' },
    { name: 'filter', type: 'string', desc: 'Filter output based on conditions provided', unsupported: true },
  ],
  async run(ctx, p) {
    const list = await ctx.client().get<ContainerSummary[]>('/containers/json', { all: true, filters: JSON.stringify({ label: [L.project] }) });
    const projects = new Map<string, { states: Map<string, number>; files: string }>();
    for (const c of list) {
      const name = c.Labels?.[L.project] ?? '';
      const e = projects.get(name) ?? { states: new Map(), files: c.Labels?.[L.configFiles] ?? '' };
      e.states.set(c.State ?? '', (e.states.get(c.State ?? '') ?? 0) + 1);
      projects.set(name, e);
    }
    const shown = [...projects].filter(([, e]) => p.flags.all || e.states.has('running')).sort(([a], [b]) => a.localeCompare(b));
    const status = (e: { states: Map<string, number> }) => [...e.states].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}(${n})`).join(', ');
    if (p.flags.quiet) return void ctx.out.write(shown.map(([n]) => `${n}\n`).join(''));
    if (p.flags.format === 'json') return void ctx.out.write(`${JSON.stringify(shown.map(([n, e]) => ({ Name: n, Status: status(e), ConfigFiles: e.files })))}\n`);
    if (p.flags.format !== 'table') throw new StatusError(1, `berth compose ls: --format "${p.flags.format}" is not supported (table or json)`);
    ctx.out.write(formatTable([['NAME', 'STATUS', 'CONFIG FILES'], ...shown.map(([n, e]) => [n, status(e), e.files])]));
    return 0;
  },
});
