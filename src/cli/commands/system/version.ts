// berth version
import type { SystemVersion } from '../../../api/types';
import { errorText, HELP_FLAG, StatusError, type Command } from '../../command';
import { renderTemplate } from '../../output/jsonfmt';
import { formatTable } from '../../output/table';
import { clientInfo } from './client-info';

// docker's version layout: tab-separated "key:\tvalue" lines through a
// tabwriter with minwidth 20 and padding 1.
function versionText(server: SystemVersion | undefined, host: string, context: string): string {
  const c = clientInfo();
  const lines: string[][] = [
    ['Client: berth'],
    [' Version:', c.Version],
    [' API version:', c.ApiVersion],
    [' Node version:', c.NodeVersion],
    [' OS/Arch:', `${c.Os}/${c.Arch}`],
    [' Context:', context],
    [' Host:', host],
  ];
  if (server) {
    lines.push([''], [`Server:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}`]);
    let components = server.Components ?? [];
    if (!components.some((x) => x.Name === 'Engine')) {
      components = [
        {
          Name: 'Engine',
          Version: server.Version ?? '',
          Details: {
            ApiVersion: server.ApiVersion ?? '',
            MinAPIVersion: server.MinAPIVersion ?? '',
            GitCommit: server.GitCommit ?? '',
            GoVersion: server.GoVersion ?? '',
            Os: server.Os ?? '',
            Arch: server.Arch ?? '',
            BuildTime: server.BuildTime ?? '',
            Experimental: String(Boolean(server.Experimental)),
          },
        },
        ...components,
      ];
    }
    for (const comp of components) {
      lines.push([` ${comp.Name}:`]);
      // Details is map[string]string in the Go daemon.
      const d = (comp.Details ?? {}) as Record<string, string>;
      if (comp.Name === 'Engine') {
        lines.push(
          ['  Version:', comp.Version],
          ['  API version:', `${d.ApiVersion ?? ''} (minimum version ${d.MinAPIVersion ?? ''})`],
          ...(d.GoVersion ? [['  Go version:', d.GoVersion]] : []),
          ...(d.NodeVersion ? [['  Node version:', d.NodeVersion]] : []),
          ['  Git commit:', d.GitCommit ?? ''],
          ['  Built:', d.BuildTime ?? ''],
          ['  OS/Arch:', `${d.Os ?? ''}/${d.Arch ?? ''}`],
          ['  Experimental:', d.Experimental ?? 'false'],
        );
      } else {
        lines.push(['  Version:', comp.Version]);
        for (const k of Object.keys(d).sort()) lines.push([`  ${k}:`, d[k]]);
      }
    }
  }
  return formatTable(lines, { minWidth: 20, padding: 1 });
}

export const versionCommand: Command = {
  name: 'version',
  usage: '[OPTIONS]',
  summary: 'Show the berth version information',
  maxArgs: 0,
  flags: [{ name: 'format', short: 'f', type: 'string', desc: 'Format output using a custom template' }, HELP_FLAG],
  async run(ctx, p) {
    let server: SystemVersion | undefined;
    let error: unknown;
    try {
      server = await ctx.client().get<SystemVersion>('/version');
    } catch (err) {
      error = err;
    }
    if (p.flags.format) {
      const data = { Client: { ...clientInfo(), Context: ctx.contextName?.() ?? 'default' }, Server: server ?? null };
      const tmpl = p.flags.format === 'json' ? '{{json .}}' : p.flags.format;
      ctx.out.write(renderTemplate(tmpl, data) + '\n');
    } else {
      ctx.out.write(versionText(server, ctx.client().endpoint.url, ctx.contextName?.() ?? 'default'));
    }
    if (error) throw new StatusError(1, errorText(error));
    return 0;
  },
};
