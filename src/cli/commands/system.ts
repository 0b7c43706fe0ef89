// version and info.
import { API_VERSION } from '../../client/client';
import type { SystemVersion } from '../../api/types';
import { errorText, HELP_FLAG, StatusError, type Command } from '../command';
import { formatG } from '../format';
import { renderTemplate } from '../jsonfmt';
import { formatTable } from '../table';
import pkg from '../../../package.json';

const goArch = (a: string) => (a === 'x64' ? 'amd64' : a === 'ia32' ? '386' : a);

function clientInfo() {
  return {
    Version: pkg.version,
    ApiVersion: API_VERSION,
    NodeVersion: process.version,
    Os: process.platform,
    Arch: goArch(process.arch),
  };
}

// docker's version layout: tab-separated "key:\tvalue" lines through a
// tabwriter with minwidth 20 and padding 1.
function versionText(server: SystemVersion | undefined, host: string): string {
  const c = clientInfo();
  const lines: string[][] = [
    ['Client: berth'],
    [' Version:', c.Version],
    [' API version:', c.ApiVersion],
    [' Node version:', c.NodeVersion],
    [' OS/Arch:', `${c.Os}/${c.Arch}`],
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
      const d = comp.Details ?? {};
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
      const data = { Client: clientInfo(), Server: server ?? null };
      const tmpl = p.flags.format === 'json' ? '{{json .}}' : p.flags.format;
      ctx.out.write(renderTemplate(tmpl, data) + '\n');
    } else {
      ctx.out.write(versionText(server, ctx.client().endpoint.url));
    }
    if (error) throw new StatusError(1, errorText(error));
    return 0;
  },
};

export const infoCommand: Command = {
  name: 'info',
  usage: '[OPTIONS]',
  summary: 'Display system-wide information',
  maxArgs: 0,
  flags: [{ name: 'format', short: 'f', type: 'string', desc: 'Format output using a custom template' }, HELP_FLAG],
  async run(ctx, p) {
    const info = await ctx.client().get<Record<string, any>>('/info');
    if (p.flags.format) {
      const tmpl = p.flags.format === 'json' ? '{{json .}}' : p.flags.format;
      ctx.out.write(renderTemplate(tmpl, info) + '\n');
      return 0;
    }
    const c = clientInfo();
    const lines = [
      'Client:',
      ` Version:    ${c.Version}`,
      ` Context:    default`,
      '',
      'Server:',
      ` Containers: ${info.Containers ?? 0}`,
      `  Running: ${info.ContainersRunning ?? 0}`,
      `  Paused: ${info.ContainersPaused ?? 0}`,
      `  Stopped: ${info.ContainersStopped ?? 0}`,
      ` Images: ${info.Images ?? 0}`,
      ` Server Version: ${info.ServerVersion ?? ''}`,
      ` Storage Driver: ${info.Driver ?? ''}`,
      ...((info.DriverStatus ?? []) as string[][]).map(([k, v]) => `  ${k}: ${v}`),
      ` Logging Driver: ${info.LoggingDriver ?? ''}`,
      ` Cgroup Driver: ${info.CgroupDriver ?? ''}`,
      ` Cgroup Version: ${info.CgroupVersion ?? ''}`,
      ` Runtimes: ${Object.keys(info.Runtimes ?? {}).sort().join(' ')}`,
      ` Default Runtime: ${info.DefaultRuntime ?? ''}`,
      ` Kernel Version: ${info.KernelVersion ?? ''}`,
      ` Operating System: ${info.OperatingSystem ?? ''}`,
      ` OSType: ${info.OSType ?? ''}`,
      ` Architecture: ${info.Architecture ?? ''}`,
      ` CPUs: ${info.NCPU ?? 0}`,
      ` Total Memory: ${humanBinary(info.MemTotal ?? 0)}`,
      ` Name: ${info.Name ?? ''}`,
      ` ID: ${info.ID ?? ''}`,
      ` Docker Root Dir: ${info.DockerRootDir ?? ''}`,
      ` Debug Mode: ${Boolean(info.Debug)}`,
      ` Experimental: ${Boolean(info.ExperimentalBuild)}`,
      ` Live Restore Enabled: ${Boolean(info.LiveRestoreEnabled)}`,
    ];
    ctx.out.write(lines.join('\n') + '\n');
    for (const w of (info.Warnings ?? []) as string[]) ctx.err.write(`${w}\n`);
    return 0;
  },
};

// go-units BytesSize ("%.4g" with binary units), as docker info's memory.
function humanBinary(size: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];
  let i = 0;
  while (size >= 1024 && i < units.length - 1) {
    size /= 1024;
    i++;
  }
  return formatG(size, 4) + units[i];
}
