// berthd(8) from the same usage text as `berthd --help`.
import { VERSION } from '../api/version';
import { renderPage, type RoffOption } from '../util/roff';
import { usage } from './config';

export function berthdManPage(): string {
  const lines = usage().split('\n');
  const options: RoffOption[] = [];
  let cur: RoffOption | undefined;
  for (const l of lines) {
    const m = /^ {2}(?:-(\w), )? *--([\w-]+)(?: (\S+))?(?: {2,}(.*))?$/.exec(l);
    if (m) {
      cur = { flags: [...(m[1] ? [`-${m[1]}`] : []), `--${m[2]}`], value: m[3], desc: m[4] ?? '' };
      options.push(cur);
    } else if (cur && /^ {20,}\S/.test(l)) {
      cur.desc = cur.desc ? `${cur.desc} ${l.trim()}` : l.trim();
    }
  }
  const description = lines.slice(1).join('\n').split('Options:')[0].trim();
  return renderPage({
    name: 'berthd',
    section: 8,
    title: description.split('\n')[0],
    synopsis: 'berthd [OPTIONS]',
    description: `${description}\nSettings come from flags and from the daemon.json given by --config-file (dockerd's names); a flag wins over the file, and a key berthd does not know stops it.`,
    options,
    seeAlso: ['berth(1)'],
    source: `berth ${VERSION}`,
  });
}
