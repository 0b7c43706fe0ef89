// Golden files for the Dockerfile parser, in BuildKit's layout: a folder
// per case, test/fixtures/dockerfile/<case>/Dockerfile parses to <case>/result
// (BuildKit's Node.Dump format, one node a line, then the stages and each
// instruction as typed); the negative set, test/fixtures/dockerfile-negative/
// <case>/Dockerfile, fails with <case>/error, Docker's message.
// UPDATE_GOLDEN=1 rewrites them (review the diff).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dump, parse } from '../../../../src/engine/build/parser';
import { DockerfileError, parseDockerfile } from '../../../../src/engine/build/instructions';
import { projectRoot } from '../../../../src/util/paths';

const VALID = path.join(projectRoot(), 'test', 'fixtures', 'dockerfile');
const NEGATIVE = path.join(projectRoot(), 'test', 'fixtures', 'dockerfile-negative');
const update = process.env.UPDATE_GOLDEN === '1';

function render(text: string): string {
  const r = parse(text);
  const df = parseDockerfile(text);
  const lines = r.nodes.map((n) => `${n.startLine}-${n.endLine} ${dump(n)}`);
  lines.push(`escape ${JSON.stringify(r.escape)} directives ${JSON.stringify(r.directives)}`);
  for (const w of r.warnings) lines.push(`warning ${JSON.stringify(w)}`);
  lines.push(`meta-args ${JSON.stringify(df.metaArgs.map((a) => a.args))}`);
  for (const s of df.stages) {
    lines.push(`stage ${s.index} name=${JSON.stringify(s.name)} base=${JSON.stringify(s.base)} platform=${JSON.stringify(s.platform)} commands=${s.commands.map((c) => c.kind).join(',')}`);
    for (const c of s.commands) {
      const { node: _n, code: _c, ...typed } = c;
      lines.push(`  ${JSON.stringify(typed)}`);
    }
  }
  return lines.join('\n') + '\n';
}

const cases = (dir: string) => fs.readdirSync(dir).filter((c) => fs.existsSync(path.join(dir, c, 'Dockerfile'))).sort();

test('parser golden: both sets hold cases', () => {
  assert.ok(cases(VALID).length >= 10);
  assert.ok(cases(NEGATIVE).length >= 10);
});

for (const f of cases(VALID)) {
  test(`parser golden: ${f}`, () => {
    const got = render(fs.readFileSync(path.join(VALID, f, 'Dockerfile'), 'utf8'));
    const golden = path.join(VALID, f, 'result');
    if (update) fs.writeFileSync(golden, got);
    assert.equal(got, fs.readFileSync(golden, 'utf8'));
  });
}

for (const f of cases(NEGATIVE)) {
  test(`parser negative: ${f}`, () => {
    let msg = '';
    try {
      parseDockerfile(fs.readFileSync(path.join(NEGATIVE, f, 'Dockerfile'), 'utf8'));
    } catch (e) {
      assert.ok(e instanceof DockerfileError, `a DockerfileError, not ${e}`);
      msg = (e as Error).message;
    }
    assert.notEqual(msg, '', 'it must fail');
    const golden = path.join(NEGATIVE, f, 'error');
    if (update) fs.writeFileSync(golden, msg + '\n');
    assert.equal(msg + '\n', fs.readFileSync(golden, 'utf8'));
  });
}
