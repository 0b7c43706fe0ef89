// Docker's units.HumanDuration: "Less than a second", "3 seconds", "About an
// hour", ... (shared by the API's status text and the CLI's tables).
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  const HOUR = 3600e3;
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60e3);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / HOUR + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / HOUR) / 24 / 365)} years`;
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

// Go's time.ParseDuration ("1m30s", "1.5h", "-2ms"), in nanoseconds.
export function parseGoDuration(value: string): number {
  const invalid = () => new Error(`time: invalid duration ${JSON.stringify(value)}`);
  let rest = value;
  let sign = 1;
  if (rest[0] === '-' || rest[0] === '+') {
    sign = rest[0] === '-' ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  let total = 0;
  while (rest) {
    const m = /^(\d*\.?\d*)([a-zµμ]*)/.exec(rest)!;
    if (m[1] === '' || m[1] === '.') throw invalid();
    if (!m[2]) throw new Error(`time: missing unit in duration ${JSON.stringify(value)}`);
    const unit = DURATION_UNITS[m[2]];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(m[2])} in duration ${JSON.stringify(value)}`);
    total += Number(m[1]) * unit;
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}

// Go's time.Duration.String() of a number of nanoseconds: "1.5s", "1m0s",
// "1h2m3s", "500ms", "250µs", "0s" (the words of dockerd's messages).
export function goDuration(nsIn: number | bigint): string {
  let ns = BigInt(typeof nsIn === 'bigint' ? nsIn : Math.round(nsIn));
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  if (neg) ns = -ns;
  const frac = (v: bigint, digits: number): string => {
    const s = v.toString().padStart(digits, '0').replace(/0+$/, '');
    return s ? `.${s}` : '';
  };
  let out: string;
  if (ns < 1_000n) out = `${ns}ns`;
  else if (ns < 1_000_000n) out = `${ns / 1_000n}${frac(ns % 1_000n, 3)}µs`;
  else if (ns < 1_000_000_000n) out = `${ns / 1_000_000n}${frac(ns % 1_000_000n, 6)}ms`;
  else {
    const totalSec = ns / 1_000_000_000n;
    const secs = `${totalSec % 60n}${frac(ns % 1_000_000_000n, 9)}s`;
    const mins = totalSec / 60n;
    const hours = mins / 60n;
    out = hours > 0n ? `${hours}h${mins % 60n}m${secs}` : mins > 0n ? `${mins}m${secs}` : secs;
  }
  return neg ? `-${out}` : out;
}
