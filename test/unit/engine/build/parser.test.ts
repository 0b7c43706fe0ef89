// Golden files for the Dockerfile parser: every testdata/parser/valid/X.Dockerfile
// parses to X.golden (BuildKit's Node.Dump format, one node a line, plus
// stages); every negative/X.Dockerfile fails with X.error, Docker's message.
// UPDATE_GOLDEN=1 rewrites them (review the diff).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dump, parse } from '../../../../src/engine/build/parser';
import { DockerfileError, parseDockerfile } from '../../../../src/engine/build/instructions';
import { projectRoot } from '../../../../src/util/paths';

const DATA = path.join(projectRoot(), 'test', 'unit', 'engine', 'build', 'testdata', 'parser');
const update = process.env.UPDATE_GOLDEN === '1';

function render(text: string): string {
  const r = parse(text);
  const df = parseDockerfile(text);
  const lines = r.nodes.map((n) => `${n.startLine}-${n.endLine} ${dump(n)}`);
  lines.push(`escape ${JSON.stringify(r.escape)} directives ${JSON.stringify(r.directives)}`);
  for (const w of r.warnings) lines.push(`warning ${JSON.stringify(w)}`);
  lines.push(`meta-args ${JSON.stringify(df.metaArgs.map((a) => a.args))}`);
  for (const s of df.stages) lines.push(`stage ${s.index} name=${JSON.stringify(s.name)} base=${JSON.stringify(s.base)} platform=${JSON.stringify(s.platform)} commands=${s.commands.map((c) => c.kind).join(',')}`);
  return lines.join('\n') + '\n';
}

for (const f of fs.readdirSync(path.join(DATA, 'valid')).filter((f) => f.endsWith('.Dockerfile'))) {
  test(`parser golden: ${f}`, () => {
    const got = render(fs.readFileSync(path.join(DATA, 'valid', f), 'utf8'));
    const golden = path.join(DATA, 'valid', f.replace(/\.Dockerfile$/, '.golden'));
    if (update) fs.writeFileSync(golden, got);
    assert.equal(got, fs.readFileSync(golden, 'utf8'));
  });
}

for (const f of fs.readdirSync(path.join(DATA, 'negative')).filter((f) => f.endsWith('.Dockerfile'))) {
  test(`parser negative: ${f}`, () => {
    let msg = '';
    try {
      parseDockerfile(fs.readFileSync(path.join(DATA, 'negative', f), 'utf8'));
    } catch (e) {
      assert.ok(e instanceof DockerfileError, `a DockerfileError, not ${e}`);
      msg = (e as Error).message;
    }
    assert.notEqual(msg, '', 'it must fail');
    const golden = path.join(DATA, 'negative', f.replace(/\.Dockerfile$/, '.error'));
    if (update) fs.writeFileSync(golden, msg + '\n');
    assert.equal(msg + '\n', fs.readFileSync(golden, 'utf8'));
  });
}
