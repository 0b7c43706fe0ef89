// Go's encoding/csv reading one record (the docker CLI's --mount and
// --network long syntax): comma-separated fields, "quoted" fields with ""
// for a quote, and its errors.
export function readCSVRecord(line: string): string[] {
  // Only the first line is read.
  const nl = line.search(/\r?\n/);
  if (nl >= 0) line = line.slice(0, nl);
  if (line === '') throw new Error('EOF');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] !== '"') {
      const comma = line.indexOf(',', i);
      const field = comma < 0 ? line.slice(i) : line.slice(i, comma);
      const q = field.indexOf('"');
      if (q >= 0) throw new Error(`parse error on line 1, column ${i + q + 1}: bare " in non-quoted field`);
      fields.push(field);
      if (comma < 0) return fields;
      i = comma + 1;
      continue;
    }
    // A quoted field.
    let field = '';
    let j = i + 1;
    for (;;) {
      const q = line.indexOf('"', j);
      if (q < 0) throw new Error(`record on line 1; parse error on line 2, column 0: extraneous or missing " in quoted-field`);
      field += line.slice(j, q);
      if (line[q + 1] === '"') {
        field += '"';
        j = q + 2;
        continue;
      }
      if (q + 1 === line.length) {
        fields.push(field);
        return fields;
      }
      if (line[q + 1] === ',') {
        fields.push(field);
        i = q + 2;
        break;
      }
      throw new Error(`parse error on line 1, column ${q + 2}: extraneous or missing " in quoted-field`);
    }
  }
}
