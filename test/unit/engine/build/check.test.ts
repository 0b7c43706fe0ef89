// berth build --check's rules, each on small Dockerfiles that should and
// should not trip it, and the measurements the build adds.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkDockerfile, measure, removedPaths, type CheckContext, type Finding, type Rule, type StepMeasure } from '../../../../src/engine/build/check';
import { parseDockerfile } from '../../../../src/engine/build/instructions';

const SMALL: CheckContext = { hasDockerignore: true, contextBytes: 1000, contextFiles: 3, topLevel: ['Dockerfile'] };

function check(text: string, ctx: CheckContext = SMALL): Finding[] {
  return checkDockerfile(parseDockerfile(text, 'Dockerfile'), ctx);
}
const rules = (fs: Finding[], rule: Rule) => fs.filter((f) => f.rule === rule);
// A Dockerfile that trips nothing, to add one thing to.
const OK = 'FROM debian:12\n';
const END = 'USER app\n';

test('copy-before-install: COPY . . before npm ci / pip install / apt-get install, not after manifests', () => {
  for (const run of ['npm ci', 'pip install -r requirements.txt', 'apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*']) {
    const f = rules(check(`${OK}WORKDIR /app\nCOPY . .\nRUN ${run}\n${END}`), 'copy-before-install');
    assert.equal(f.length, 1, run);
    assert.equal(f[0].line, 3);
    assert.equal(f[0].layerLine, 4);
    assert.match(f[0].fix, /COPY .* \.\/ ; RUN/);
  }
  assert.deepEqual(rules(check(`${OK}WORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n${END}`), 'copy-before-install'), []);
  assert.deepEqual(rules(check(`${OK}COPY . .\nRUN make\n${END}`), 'copy-before-install'), []);
});

test('apt-get install: --no-install-recommends and the lists removed in the same RUN', () => {
  const bad = check(`${OK}RUN apt-get update && apt-get install -y curl\n${END}`);
  assert.equal(rules(bad, 'apt-no-recommends')[0].line, 2);
  assert.equal(rules(bad, 'apt-lists')[0].line, 2);
  assert.deepEqual(rules(bad, 'apt-lists')[0].paths, ['/var/lib/apt/lists']);
  const good = check(`${OK}RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n  && rm -rf /var/lib/apt/lists/*\n${END}`);
  assert.deepEqual([...rules(good, 'apt-no-recommends'), ...rules(good, 'apt-lists')], []);
});

test('consecutive RUNs: reported at the second, not across another instruction', () => {
  const f = rules(check(`${OK}RUN a\nRUN b\nENV X=1\nRUN c\n${END}`), 'consecutive-run');
  assert.deepEqual(f.map((x) => x.line), [3]);
  assert.deepEqual(rules(check(`${OK}RUN a\nRUN --mount=type=cache,target=/c b\n${END}`), 'consecutive-run'), []);
});

test('deleted-later: a file added in one layer and removed in a later one', () => {
  const f = rules(check(`${OK}COPY big.tar /tmp/big.tar\nRUN tar -xf /tmp/big.tar -C /opt\nRUN rm /tmp/big.tar\n${END}`), 'deleted-later');
  assert.equal(f.length, 1);
  assert.equal(f[0].line, 4);
  assert.equal(f[0].layerLine, 2);
  assert.deepEqual(f[0].paths, ['/tmp/big.tar']);
  // A download, and apt lists removed in a RUN of their own.
  assert.equal(rules(check(`${OK}RUN wget -O /x.zip http://h/x.zip\nENV A=1\nRUN rm -f /x.zip\n${END}`), 'deleted-later')[0].layerLine, 2);
  assert.equal(rules(check(`${OK}RUN apt-get update\nENV A=1\nRUN rm -rf /var/lib/apt/lists/*\n${END}`), 'deleted-later')[0].layerLine, 2);
  // Removed in the same RUN that made it: nothing stays.
  assert.deepEqual(rules(check(`${OK}RUN wget -O /x.zip http://h/x.zip && unzip /x.zip && rm /x.zip\n${END}`), 'deleted-later'), []);
  // Relative to WORKDIR.
  assert.equal(rules(check(`${OK}WORKDIR /src\nCOPY a.bin .\nENV A=1\nRUN rm a.bin\n${END}`), 'deleted-later').length, 1);
  assert.deepEqual(removedPaths('rm -rf /a "/b" && echo rm; rm -f c'), ['/a', '/b', 'c']);
});

test('ADD where COPY does: local non-archives only', () => {
  const f = rules(check(`${OK}ADD app.py /app/\n${END}`), 'add-not-copy');
  assert.equal(f[0].line, 2);
  assert.equal(f[0].fix, 'COPY app.py /app/');
  assert.deepEqual(rules(check(`${OK}ADD rootfs.tar.gz /\nADD https://example.com/x /x\n${END}`), 'add-not-copy'), []);
});

test('a base without a tag or with latest; digests, scratch and stages are fine', () => {
  assert.equal(rules(check(`FROM busybox\n${END}`), 'base-tag')[0].line, 1);
  assert.equal(rules(check(`FROM docker.io/library/busybox:latest\n${END}`), 'base-tag').length, 1);
  assert.equal(rules(check(`ARG V=latest\nFROM busybox:\${V}\n${END}`), 'base-tag').length, 1);
  assert.equal(rules(check(`FROM localhost:5000/x\n${END}`), 'base-tag').length, 1);
  assert.deepEqual(rules(check(`FROM debian:12 AS b\nRUN x\nFROM b\nFROM scratch\nFROM localhost:5000/x:1.2\nFROM busybox@sha256:${'a'.repeat(64)}\n${END}`), 'base-tag'), []);
});

test('no USER in the final stage (or USER root); a USER in an earlier stage does not count', () => {
  assert.equal(rules(check(OK), 'no-user')[0].line, 1);
  assert.equal(rules(check(`${OK}USER app\nUSER root\n`), 'no-user')[0].line, 3);
  assert.equal(rules(check(`FROM debian:12 AS b\nUSER app\nFROM debian:12\n`), 'no-user')[0].line, 3);
  assert.deepEqual(rules(check(`${OK}USER 1000:1000\n`), 'no-user'), []);
});

test('secrets in ARG or ENV', () => {
  const f = rules(check(`ARG NPM_TOKEN\n${OK}ARG DB_PASSWORD\nENV AWS_SECRET_ACCESS_KEY=x\nENV API_KEY=y\n${END}`), 'secret-arg');
  assert.deepEqual(f.map((x) => x.line), [1, 3, 4, 5]);
  assert.match(f[0].fix, /--mount=type=secret/);
  assert.deepEqual(rules(check(`${OK}ARG VERSION=1\nENV PATH=/x KEYBOARD=us\n${END}`), 'secret-arg'), []);
});

test('no .dockerignore with a large context (or .git / node_modules in it)', () => {
  const big = { hasDockerignore: false, contextBytes: 50e6, contextFiles: 900, topLevel: ['Dockerfile', 'src'] };
  const f = rules(check(`${OK}${END}`, big), 'no-dockerignore');
  assert.equal(f.length, 1);
  assert.match(f[0].message, /50\.0 MB in 900 files/);
  assert.equal(rules(check(`${OK}${END}`, { ...big, contextBytes: 2000, topLevel: ['.git'] }), 'no-dockerignore').length, 1);
  assert.deepEqual(rules(check(`${OK}${END}`, { ...big, hasDockerignore: true }), 'no-dockerignore'), []);
  assert.deepEqual(rules(check(`${OK}${END}`, { ...big, contextBytes: 2000 }), 'no-dockerignore'), []);
});

test('a clean Dockerfile has no findings', () => {
  assert.deepEqual(check(`FROM debian:12\nWORKDIR /app\nCOPY package.json ./\nRUN apt-get update && apt-get install -y --no-install-recommends nodejs && rm -rf /var/lib/apt/lists/*\nCOPY . .\nUSER app\nCMD ["node", "."]\n`), []);
});

test('measure: what the steps measured goes to the findings', () => {
  const f = check(`${OK}COPY . .\nRUN npm ci\nRUN apt-get update\nENV A=1\nRUN rm -rf /var/lib/apt/lists/*\n${END}`);
  const steps = new Map<number, StepMeasure>([
    [3, { line: 3, code: 'RUN npm ci', bytes: 45e6, ms: 12300, sizeOf: () => 0 }],
    [4, { line: 4, code: 'RUN apt-get update', bytes: 20e6, ms: 3000, sizeOf: (p) => (p === '/var/lib/apt/lists' ? 19e6 : 0) }],
  ]);
  measure(f, steps);
  assert.match(rules(f, 'copy-before-install')[0].measured!, /line 3, which took 12\.3 s and adds 45\.0 MB/);
  assert.match(rules(f, 'deleted-later')[0].measured!, /19\.0 MB in the layer of line 4/);
});
