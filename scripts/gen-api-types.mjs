// Writes src/api/types.ts: TypeScript interfaces for the Engine API shapes
// berth serves, generated from the Engine API spec in third_party/. Field
// names are the spec's; a field is optional unless the spec lists it as
// required, and `| null` where the spec says x-nullable (and for slices and
// maps, which Go sends as null when nil).
//
//   node scripts/gen-api-types.mjs          rewrite src/api/types.ts
//   node scripts/gen-api-types.mjs --check  exit 1 if it is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

const SPEC = 'third_party/docker-engine-api/docker-engine-api-1.51.yaml';
const OUT = 'src/api/types.ts';

// What berth serves today: named definitions, and the schemas the spec
// writes inline in a path (named by their title, or by the name given here).
const ROOTS = [
  { body: ['/containers/create', 'post'], name: 'ContainerCreateRequest' },
  'ContainerCreateResponse',
  'ContainerSummary',
  'ContainerInspectResponse',
  'ContainerWaitResponse',
  'ImageSummary',
  'ImageInspect',
  { response: ['/images/{name}/history', 'get'] },
  'ImageDeleteResponseItem',
  { response: ['/images/prune', 'post'] },
  'IDResponse',
  'AuthConfig',
  { response: ['/auth', 'post'] },
  'SystemVersion',
  'SystemInfo',
  { response: ['/system/df', 'get'] },
  'CreateImageInfo',
  'PushImageInfo',
  'ProgressDetail',
  'ErrorDetail',
  'ErrorResponse',
  'ContainerStatsResponse',
  'ContainerTopResponse',
  'EventMessage',
];

// Shapes the spec does not name, written by hand (types only).
const EXTRA = `
// One line of a JSON progress stream (pull, push, import, load): docker's
// jsonmessage.JSONMessage, of which CreateImageInfo and PushImageInfo are
// views. Not a definition in the spec.
export interface JSONMessage {
  id?: string;
  status?: string;
  stream?: string;
  progress?: string;
  progressDetail?: ProgressDetail;
  error?: string;
  errorDetail?: ErrorDetail;
  aux?: unknown;
}
`;

const spec = parse(readFileSync(SPEC, 'utf8'));
const defs = spec.definitions;
const emitted = new Map(); // name -> text
const queue = [];

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (k) => (IDENT.test(k) ? k : JSON.stringify(k));
const quote = (v) => `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const refName = (ref) => ref.replace('#/definitions/', '');
const schemaName = (s) => s['x-go-name'] ?? s.title;

function want(name) {
  if (!emitted.has(name) && !queue.includes(name)) queue.push(name);
}

// The TypeScript type of a schema; named inline objects become interfaces.
function typeOf(s, indent) {
  let t;
  if (s.$ref) {
    want(refName(s.$ref));
    t = refName(s.$ref);
  } else if (s.allOf) {
    t = s.allOf.map((x) => typeOf(x, indent)).join(' & ');
  } else if (s.enum && s.type === 'string') {
    t = s.enum.map(quote).join(' | ');
  } else if (s.type === 'array') {
    const item = typeOf(s.items ?? {}, indent);
    t = /[|&]/.test(item) ? `(${item})[]` : `${item}[]`;
  } else if (s.type === 'object' || s.properties || s.additionalProperties) {
    if (s.properties && schemaName(s) && !defs[schemaName(s)]) {
      inline.set(schemaName(s), s);
      want(schemaName(s));
      t = schemaName(s);
    } else if (s.properties) {
      t = objectBody(s, indent);
    } else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
      const v = s.additionalProperties;
      const empty = v.type === 'object' && !v.properties && Array.isArray(v.enum);
      t = `Record<string, ${empty ? 'Record<string, never>' : typeOf(v, indent)}>`;
    } else {
      t = 'Record<string, unknown>';
    }
  } else if (s.type === 'string') {
    t = 'string';
  } else if (s.type === 'integer' || s.type === 'number') {
    t = 'number';
  } else if (s.type === 'boolean') {
    t = 'boolean';
  } else {
    t = 'unknown';
  }
  // Go sends a nil slice or map as null, so those are nullable unless the
  // spec says otherwise.
  const goNil = s.type === 'array' || (s.type === 'object' && !s.properties);
  const nullable = s['x-nullable'] === true || (goNil && s['x-nullable'] !== false);
  if (nullable && t !== 'unknown') t = /[|&]/.test(t) ? `(${t}) | null` : `${t} | null`;
  return t;
}

function fields(s, indent) {
  const required = new Set(s.required ?? []);
  const pad = '  '.repeat(indent + 1);
  return Object.entries(s.properties ?? {})
    .map(([k, v]) => `${pad}${key(k)}${required.has(k) ? '' : '?'}: ${typeOf(v, indent + 1)};`)
    .join('\n');
}

function objectBody(s, indent) {
  return `{\n${fields(s, indent)}\n${'  '.repeat(indent)}}`;
}

function comment(s) {
  const first = (s.description ?? '').trim().split('\n\n')[0].replace(/\s+/g, ' ');
  return first ? `// ${first}\n` : '';
}

// An interface for a definition or a named inline schema; allOf of a
// reference and an object becomes `extends`.
function emit(name, s) {
  let head = `export interface ${name}`;
  let body = s;
  if (s.allOf) {
    const refs = s.allOf.filter((x) => x.$ref).map((x) => refName(x.$ref));
    refs.forEach(want);
    const own = s.allOf.filter((x) => !x.$ref);
    body = { required: own.flatMap((x) => x.required ?? []), properties: Object.assign({}, ...own.map((x) => x.properties ?? {})) };
    if (refs.length) head += ` extends ${refs.join(', ')}`;
  }
  if (!body.properties) {
    emitted.set(name, `${comment(s)}export type ${name} = ${typeOf(s, 0)};\n`);
    return;
  }
  emitted.set(name, `${comment(s)}${head} {\n${fields(body, 0)}\n}\n`);
}

const inline = new Map();
const order = [];
for (const r of ROOTS) {
  if (typeof r === 'string') {
    want(r);
    continue;
  }
  const [path, method] = r.body ?? r.response;
  const op = spec.paths[path][method];
  let s = r.body ? op.parameters.find((p) => p.in === 'body').schema : (op.responses[200] ?? op.responses[201]).schema;
  if (s.type === 'array') s = s.items;
  const name = r.name ?? schemaName(s);
  inline.set(name, s);
  want(name);
}
while (queue.length) {
  const name = queue.shift();
  if (emitted.has(name)) continue;
  emit(name, inline.get(name) ?? defs[name]);
  order.push(name);
}

const text = `// Engine API ${spec.info.version} types: the shapes berthd serves and the client
// and the test fakes read. Generated by scripts/gen-api-types.mjs from the
// spec in third_party/; do not edit (change the script's ROOTS and rerun it).
${order.map((n) => `\n${emitted.get(n)}`).join('')}${EXTRA}`;

if (process.argv.includes('--check')) {
  if (readFileSync(OUT, 'utf8') !== text) {
    console.error(`${OUT} is out of date: run node scripts/gen-api-types.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
}
