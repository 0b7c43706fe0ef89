// docs/COMPATIBILITY.md, generated from the field table (so the two cannot
// drift: a unit test compares them). Regenerate with
// `npx tsc -p . && node scripts/compat-doc.mjs`.
import { EXEC_FIELDS, EXEC_START_FIELDS } from './exec-fields';
import { UPDATE_FIELDS } from './update-fields';
import { CREATE_FIELDS, type FieldRule } from './fields';
import { QUERY } from './query';
import { SPEC_ROUTES } from './spec-routes';

const STATUS: Record<FieldRule['status'], string> = {
  applied: 'applied',
  partial: 'partly',
  refused: 'refused',
  ignored: 'ignored',
};

function section(title: string, prefix: string): string {
  const rows = Object.entries(CREATE_FIELDS)
    .filter(([k]) => k.startsWith(prefix))
    .map(([k, r]) => `| \`${k.slice(prefix.length)}\` | ${STATUS[r.status]} | ${(r.note ?? '').replace(/\|/g, '\\|')} |`);
  return `### ${title}\n\n| field | status | notes |\n|---|---|---|\n${rows.join('\n')}\n`;
}

function table(title: string, fields: Record<string, FieldRule>): string {
  const rows = Object.entries(fields).map(([k, r]) => `| \`${k}\` | ${STATUS[r.status]} | ${(r.note ?? '').replace(/\|/g, '\\|')} |`);
  return `### ${title}\n\n| field | status | notes |\n|---|---|---|\n${rows.join('\n')}\n`;
}

export function compatibilityMarkdown(): string {
  const count = (s: FieldRule['status']) => Object.values(CREATE_FIELDS).filter((r) => r.status === s).length;
  return `# Compatibility with the Docker Engine API

<!-- Generated from src/server/compat/ by scripts/compat-doc.mjs; do not edit by hand. -->

berthd serves the Docker Engine API 1.51 (down to 1.24). Nothing a client
asks for is silently ignored: each field of a request is either applied or
refused with \`400\` and a message that names it (\`HostConfig.Memory is not
supported yet\`). Clients send every field with its zero value, so zero
values (\`0\`, \`""\`, \`false\`, \`null\`, empty lists and maps) are always
accepted; only a value that asks for something is refused.

- **applied**: takes effect (metadata is kept and shown back).
- **partly**: some values are applied, the others refused; the notes say which.
- **refused**: any non-zero value is refused; the notes say which issue brings it.
- **ignored**: has no effect by design; the notes say why. Non-zero values of
  Windows-only fields are refused.

## \`POST /containers/create\`

${count('applied')} fields applied, ${count('partial')} in part, ${count('refused')} refused, ${count('ignored')} ignored by design.
A field that is not in the 1.51 spec is refused unless its value is zero.

${section('Config (ContainerConfig)', 'Config.')}
${section('HostConfig', 'HostConfig.')}
${section('NetworkingConfig', 'NetworkingConfig.')}
## \`POST /containers/{id}/exec\` and \`POST /exec/{id}/start\`

The exec bodies are judged the same way: a field not listed is refused
unless its value is zero.

${table('ExecConfig', EXEC_FIELDS)}
${table('ExecStartConfig', EXEC_START_FIELDS)}
## \`POST /containers/{id}/update\`

The update body is merged into the container's HostConfig as dockerd merges
it (a zero leaves a value as it was); a running container's cgroup changes at
once, a stopped one's at its next start. A field not listed is refused unless
its value is zero.

${table('UpdateConfig', UPDATE_FIELDS)}
## Routes and their query parameters

Each route berth serves, with what it does with each query parameter the
spec defines. A refused parameter sent with a value other than empty, \`0\`
or \`false\` is answered \`400\` naming it.

| route | applied | refused or ignored |
|---|---|---|
${queryRows()}

## Routes not served yet

Each answers \`404\` with \`berth does not implement <route> yet\`.

${SPEC_ROUTES.filter((r) => !QUERY[r]).map((r) => `- \`${r}\``).join('\n')}
`;
}

function queryRows(): string {
  return Object.entries(QUERY)
    .map(([route, params]) => {
      const used = Object.entries(params).filter(([, r]) => r.use === 'applied').map(([p]) => `\`${p}\``);
      const other = Object.entries(params)
        .filter(([, r]) => r.use !== 'applied')
        .map(([p, r]) => `\`${p}\` ${r.use}: ${r.use === 'applied' ? '' : r.reason}`.replace(/\|/g, '\\|'));
      return `| \`${route}\` | ${used.join(', ') || '—'} | ${other.join('; ') || '—'} |`;
    })
    .join('\n');
}
