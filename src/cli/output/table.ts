// Go's text/tabwriter as docker configures it for tables
// (minwidth 10, tabwidth 1, padding 3, padchar ' ', no flags).
import { displayWidth } from './format';

export interface TableOptions {
  minWidth?: number;
  padding?: number;
}

// Every cell but the last of a row is tab-terminated, so it belongs to a
// column; a column's width is the widest cell plus padding (at least
// minWidth). The last cell of each row is written as it is.
export function formatTable(rows: string[][], opts: TableOptions = {}): string {
  const minWidth = opts.minWidth ?? 10;
  const padding = opts.padding ?? 3;
  const lines = rows.map((r) => r.map((c) => ({ text: c, width: displayWidth(c) })));
  let out = '';
  // Columns are blocks of consecutive lines that have a cell there (as in Go).
  const widths = new Map<string, number>();
  const key = (line: number, col: number) => `${line}:${col}`;
  const maxCols = Math.max(0, ...lines.map((l) => l.length - 1));
  for (let col = 0; col < maxCols; col++) {
    let i = 0;
    while (i < lines.length) {
      if (col >= lines[i].length - 1) {
        i++;
        continue;
      }
      let j = i;
      let w = minWidth;
      while (j < lines.length && col < lines[j].length - 1) {
        w = Math.max(w, lines[j][col].width + padding);
        j++;
      }
      for (let k = i; k < j; k++) widths.set(key(k, col), w);
      i = j;
    }
  }
  lines.forEach((line, li) => {
    line.forEach((cell, ci) => {
      out += cell.text;
      const w = widths.get(key(li, ci));
      if (w !== undefined) out += ' '.repeat(w - cell.width);
    });
    out += '\n';
  });
  return out;
}
