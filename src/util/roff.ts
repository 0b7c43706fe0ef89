// A man(7) page writer, small enough for help text: escapes, sections,
// tagged paragraphs for options and commands. `man -l` renders the result.

// Backslashes and hyphens escaped, and a line that would start with a
// control character ('.' or "'") made literal.
export function roffText(s: string): string {
  return s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^['.]/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

export interface RoffOption {
  flags: string[]; // "-c", "--context"
  value?: string; // "string"
  desc: string;
}

export interface RoffPage {
  name: string; // "berth-run"
  section: number;
  title: string; // one line: what NAME says after the dash
  synopsis: string;
  description?: string;
  options?: RoffOption[];
  optionsTitle?: string;
  commands?: { name: string; desc: string }[];
  seeAlso?: string[]; // "berth(1)"
  source: string; // "berth 0.1.0"
}

export function renderPage(p: RoffPage): string {
  const out: string[] = [];
  out.push(`.TH "${p.name.toUpperCase()}" "${p.section}" "" "${roffText(p.source)}" "${p.section === 8 ? 'System Manager\'s Manual' : 'User Commands'}"`);
  out.push('.SH NAME', `${roffText(p.name)} \\- ${roffText(p.title)}`);
  out.push('.SH SYNOPSIS', `.nf`, roffText(p.synopsis), `.fi`);
  if (p.description) out.push('.SH DESCRIPTION', roffText(p.description));
  if (p.options?.length) {
    out.push(`.SH ${roffText(p.optionsTitle ?? 'OPTIONS')}`);
    for (const o of p.options) {
      out.push('.TP', `${o.flags.map((f) => `\\fB${roffText(f)}\\fR`).join(', ')}${o.value ? ` \\fI${roffText(o.value)}\\fR` : ''}`);
      out.push(roffText(o.desc).split('\n').join('\n.br\n'));
    }
  }
  if (p.commands?.length) {
    out.push('.SH COMMANDS');
    for (const c of p.commands) out.push('.TP', `\\fB${roffText(c.name)}\\fR`, roffText(c.desc));
  }
  if (p.seeAlso?.length) out.push('.SH SEE ALSO', p.seeAlso.map((s) => `\\fB${roffText(s)}\\fR`).join(', '));
  return out.join('\n') + '\n';
}
