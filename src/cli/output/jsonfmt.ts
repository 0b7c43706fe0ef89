// JSON output as docker prints it: raw daemon JSON re-indented (Go's
// json.Indent keeps key order and number text), and a small subset of Go
// templates for --format.
import { executeTemplate, parseTemplate, TemplateError } from './template';

// Go's json.Indent(dst, src, "", indent).
export function indentJSON(src: string, indent = '    '): string {
  let out = '';
  let depth = 0;
  let pendingOpen = false; // just wrote { or [; newline only if not empty
  const nl = () => '\n' + indent.repeat(depth);
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (pendingOpen && c !== '}' && c !== ']') {
      pendingOpen = false;
      depth++;
      out += nl();
    }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j;
      continue;
    }
    switch (c) {
      case '{':
      case '[':
        out += c;
        pendingOpen = true;
        break;
      case '}':
      case ']':
        if (pendingOpen) pendingOpen = false;
        else {
          depth--;
          out += nl();
        }
        out += c;
        break;
      case ',':
        out += ',' + nl();
        break;
      case ':':
        out += ': ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

// --format templates: see template.ts.
export { goValue } from './template';

// Renders `tmpl` (docker's \t and \n escapes allowed) against decoded JSON,
// as `inspect --format` does. Errors read "template parsing error: …".
export function renderTemplate(tmpl: string, data: unknown, opts: { missingKeyError?: boolean } = {}): string {
  try {
    return executeTemplate(parseTemplate(tmpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n')), data, undefined, opts);
  } catch (e) {
    if (e instanceof TemplateError) throw new Error(`template parsing error: ${e.message}`);
    throw e;
  }
}
