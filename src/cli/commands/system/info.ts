// berth info
import type { SystemInfo } from '../../../api/types';
import { HELP_FLAG, type Command } from '../../command';
import { formatG } from '../../output/format';
import { renderTemplate } from '../../output/jsonfmt';
import { clientInfo } from './client-info';

export const infoCommand: Command = {
  name: 'info',
  usage: '[OPTIONS]',
  summary: 'Display system-wide information',
  maxArgs: 0,
  flags: [{ name: 'format', short: 'f', type: 'string', desc: 'Format output using a custom template' }, HELP_FLAG],
  async run(ctx, p) {
    const info = await ctx.client().get<SystemInfo>('/info');
    if (p.flags.format) {
      const tmpl = p.flags.format === 'json' ? '{{json .}}' : p.flags.format;
      ctx.out.write(renderTemplate(tmpl, info) + '\n');
      return 0;
    }
    const c = clientInfo();
    const lines = [
      'Client:',
      ` Version:    ${c.Version}`,
      ` Context:    ${ctx.contextName?.() ?? 'default'}`,
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
      ...registryLines(info),
      ` Live Restore Enabled: ${Boolean(info.LiveRestoreEnabled)}`,
    ];
    ctx.out.write(lines.join('\n') + '\n');
    for (const w of (info.Warnings ?? []) as string[]) ctx.err.write(`${w}\n`);
    return 0;
  },
};

// As docker's CLI: insecure registries by name, then by CIDR; mirrors if any.
function registryLines(info: SystemInfo): string[] {
  const rc = info.RegistryConfig;
  if (!rc) return [];
  const out: string[] = [];
  const names = Object.values(rc.IndexConfigs ?? {}).filter((i) => i.Secure === false).map((i) => i.Name ?? '');
  const cidrs = rc.InsecureRegistryCIDRs ?? [];
  if (names.length + cidrs.length) out.push(' Insecure Registries:', ...names.map((n) => `  ${n}`), ...cidrs.map((c) => `  ${c}`));
  if (rc.Mirrors?.length) out.push(' Registry Mirrors:', ...rc.Mirrors.map((m) => `  ${m}`));
  return out;
}

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
