import * as os from 'node:os';
import { invalidArgument } from '../errors';

// Accepts "SIGKILL", "KILL", "kill" or "9", as Docker does.
export function parseSignal(s: string | undefined, dflt = 'SIGKILL'): number {
  const v = (s ?? '').trim() || dflt;
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > 64) throw invalidArgument(`Invalid signal: ${v}`);
    return n;
  }
  const name = v.toUpperCase().startsWith('SIG') ? v.toUpperCase() : `SIG${v.toUpperCase()}`;
  const n = (os.constants.signals as Record<string, number>)[name];
  if (!n) throw invalidArgument(`Invalid signal: ${v}`);
  return n;
}
