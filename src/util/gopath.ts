// Go's path/filepath functions on slash-separated paths, where Docker's
// rules are written in their terms (docker cp's paths, on the client and in
// the daemon).
// Go's filepath.Clean.
export function clean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s || (rooted ? '/' : '.');
}

// Go's filepath.Base and filepath.Dir.
export function base(p: string): string {
  if (p === '') return '.';
  const s = p.replace(/\/+$/, '');
  if (s === '') return '/';
  return s.slice(s.lastIndexOf('/') + 1);
}

export function dir(p: string): string {
  const i = p.lastIndexOf('/');
  return clean(p.slice(0, i + 1));
}

export function join(...parts: string[]): string {
  const s = parts.filter((x) => x !== '').join('/');
  return s ? clean(s) : '';
}
