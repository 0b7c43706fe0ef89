// --platform for save, load and history.
import { StatusError } from '../../command';

// The API's platform parameter: JSON of an OCI platform.
export function platformJSON(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const [os, architecture, variant] = s.toLowerCase().split('/');
  if (!os) throw new StatusError(1, `invalid platform: "${s}": unknown operating system or architecture: invalid argument`);
  const p: Record<string, string> = { architecture: architecture ?? process.arch.replace('x64', 'amd64'), os };
  if (variant) p.variant = variant;
  return JSON.stringify(p);
}
