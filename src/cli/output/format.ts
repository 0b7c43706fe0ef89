// Text formatting that must match the docker CLI byte for byte: sizes
// (go-units), durations, Go's %g and strconv.Quote, ellipsis, short ids.
import { humanDuration } from '../../util/duration';

// Go's fmt "%.<prec>g" (strconv.FormatFloat(x, 'g', prec, 64)), including its
// round-half-to-even on exact ties, which JS's toPrecision does not do.
export function formatG(x: number, prec: number): string {
  if (x === 0) return '0';
  const neg = x < 0;
  const exp = Math.abs(x).toExponential(99); // exact digits of the double
  const m = /^(\d)\.(\d+)e([+-]\d+)$/.exec(exp)!;
  let digits = (m[1] + m[2]).split('').map(Number);
  let e = Number(m[3]);
  const rest = digits.slice(prec);
  digits = digits.slice(0, prec);
  let up = false;
  if (rest.length) {
    if (rest[0] > 5) up = true;
    else if (rest[0] === 5) {
      up = rest.slice(1).some((d) => d !== 0) || digits[prec - 1] % 2 === 1;
    }
  }
  if (up) {
    let i = prec - 1;
    while (i >= 0 && digits[i] === 9) digits[i--] = 0;
    if (i < 0) {
      digits.unshift(1);
      digits.pop();
      e++;
    } else digits[i]++;
  }
  while (digits.length > 1 && digits[digits.length - 1] === 0) digits.pop();
  // Go: %e when exp < -4 || exp >= eprec, where eprec shrinks to the digit
  // count when the number is an integer with fewer digits than prec.
  let eprec = prec;
  const nd = digits.length;
  const dp = e + 1;
  if (eprec > nd && nd >= dp) eprec = nd;
  let s: string;
  if (e < -4 || e >= eprec) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1).join('')}` : String(digits[0]);
    const ae = Math.abs(e);
    s = `${mant}e${e < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  } else if (dp <= 0) {
    s = `0.${'0'.repeat(-dp)}${digits.join('')}`;
  } else if (dp >= nd) {
    s = digits.join('') + '0'.repeat(dp - nd);
  } else {
    s = `${digits.slice(0, dp).join('')}.${digits.slice(dp).join('')}`;
  }
  return neg ? `-${s}` : s;
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

// go-units HumanSizeWithPrecision as vendored in docker CLI 28 (which prints
// 999.5kB as "1e+03kB"; we match it).
export function humanSize(size: number, precision = 3): string {
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return formatG(size, precision) + DECIMAL_UNITS[i];
}

// go-units HumanDuration; `ms` is a duration in milliseconds. Days, weeks
// and months are whole units of the duration rounded to the hour.
export { humanDuration };

// "5 seconds ago" for a Unix timestamp in seconds.
export function since(unixSeconds: number, now = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`;
}

// East Asian wide and fullwidth characters take two columns (as go-runewidth).
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function isZeroWidth(cp: number): boolean {
  return (cp >= 0x300 && cp <= 0x36f) || cp === 0x200b || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f);
}

export function charWidth(cp: number): number {
  if (isZeroWidth(cp)) return 0;
  return isWide(cp) ? 2 : 1;
}

export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch.codePointAt(0)!);
  return w;
}

// docker's formatter.Ellipsis: cut to maxWidth display columns, ending in "…".
export function ellipsis(s: string, maxWidth: number): string {
  if (maxWidth <= 0) return '';
  const rs = Array.from(s);
  if (maxWidth === 1) return rs[0] ?? '';
  // Docker's wide-character path uses East Asian width (no zero-width marks).
  const widths = rs.map((r) => (isWide(r.codePointAt(0)!) ? 2 : 1));
  const total = widths.reduce((a, b) => a + b, 0);
  if (total <= maxWidth) return s;
  let w = 0;
  let i = 0;
  while (i < rs.length && w + widths[i] <= maxWidth - 1) w += widths[i++];
  return rs.slice(0, i).join('') + '…';
}

// Go's strconv.Quote.
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
    }
    if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if ((cp >= 0x80 && cp < 0xa0) || cp === 0xad || cp === 0xfffd || (cp >= 0xd800 && cp <= 0xdfff)) {
      out += cp === 0xfffd ? ch : `\\u${cp.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return out + '"';
}

// docker's stringid.TruncateID: strip the algorithm, keep 12 characters.
export function truncateId(id: string): string {
  const i = id.indexOf(':');
  return (i >= 0 ? id.slice(i + 1) : id).slice(0, 12);
}

// Splits "name[:tag][@digest]" (the tag is after the last slash).
export function splitReference(ref: string): { name: string; tag: string; digest: string } {
  let digest = '';
  const at = ref.indexOf('@');
  if (at >= 0) {
    digest = ref.slice(at + 1);
    ref = ref.slice(0, at);
  }
  let tag = '';
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) {
    tag = ref.slice(colon + 1);
    ref = ref.slice(0, colon);
  }
  return { name: ref, tag, digest };
}

// reference.FamiliarName: drop the default registry and "library/".
export function familiarName(name: string): string {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasDomain = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  let rest = name;
  if (hasDomain) {
    if (first !== 'docker.io' && first !== 'index.docker.io') return name;
    rest = name.slice(slash + 1);
  }
  if (rest.startsWith('library/') && rest.indexOf('/', 8) < 0) rest = rest.slice(8);
  return rest;
}

// The familiar form of a full reference, without its digest (as `docker ps`).
export function familiarImage(ref: string): string {
  const r = splitReference(ref);
  const name = familiarName(r.name);
  return r.tag ? `${name}:${r.tag}` : name;
}
