// WWW-Authenticate parsing (RFC 9110 section 11.6.1): one header may hold
// several challenges, each a scheme followed by auth-params or a token68.
export interface Challenge {
  scheme: string; // lower-cased: "basic", "bearer"
  params: Record<string, string>; // names lower-cased
  token68?: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

export function parseWWWAuthenticate(headers: string | string[] | undefined): Challenge[] {
  if (headers === undefined) return [];
  const list = Array.isArray(headers) ? headers : [headers];
  return list.flatMap(parseOne);
}

function parseOne(s: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  let cur: Challenge | undefined;
  const ws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const atEndOfItem = (j: number) => /^[ \t]*(,|$)/.test(s.slice(j));

  while (i < s.length) {
    ws();
    if (s[i] === ',') {
      i++;
      continue;
    }
    const m = TOKEN.exec(s.slice(i));
    if (!m) {
      i++; // junk: skip it
      continue;
    }
    const tok = m[0];
    i += tok.length;
    ws();
    if (cur && s[i] === '=') {
      // auth-param: name "=" ( token / quoted-string )
      i++;
      ws();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        const v = TOKEN.exec(s.slice(i));
        if (v) {
          value = v[0];
          i += value.length;
        }
      }
      cur.params[tok.toLowerCase()] = value;
      continue;
    }
    // A new challenge.
    cur = { scheme: tok.toLowerCase(), params: {} };
    out.push(cur);
    // A token68 stands alone: "Negotiate abc==", not "Bearer realm=...".
    const t = TOKEN68.exec(s.slice(i));
    if (t && atEndOfItem(i + t[0].length) && !/^[^=]+=[^=]/.test(s.slice(i, i + t[0].length + 1))) {
      cur.token68 = t[0];
      i += t[0].length;
    }
  }
  return out;
}
