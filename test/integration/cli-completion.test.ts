// berth completion bash|zsh|fish, loaded in each shell and asked for
// completions (commands, subcommands, flags, a flag's value, containers from
// the daemon); man pages from `berth docs man` and scripts/man.mjs rendered
// by `man -l`, one per command, each listing the flags `--help` lists.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BERTH, ROOT, docker, importBusybox, run, startDaemon, type TestDaemon } from './harness';

const have = (sh: string) => spawnSync(sh, ['-c', 'true']).status === 0;
// Outside CI a missing shell skips with its reason; in CI it must not.
const need = (sh: string) => (!have(sh) && !process.env.CI ? `${sh} is not installed (apt-get install ${sh})` : false);

describe('shell completion and man pages', { timeout: 180_000 }, () => {
  let d: TestDaemon;
  let env: NodeJS.ProcessEnv;
  const scripts: Record<string, string> = {};

  before(async () => {
    d = await startDaemon();
    await importBusybox(d, 'busybox');
    assert.equal((await docker(d, 'create', '--name', 'compl-web', 'busybox', 'true')).code, 0);
    env = { ...d.env, PATH: `${path.dirname(BERTH)}:${process.env.PATH}` };
    for (const sh of ['bash', 'zsh', 'fish']) {
      const r = await run(BERTH, ['completion', sh], env);
      assert.equal(r.code, 0, r.stderr);
      scripts[sh] = path.join(d.base, `berth.${sh}`);
      fs.writeFileSync(scripts[sh], r.stdout);
    }
  });
  after(async () => {
    await d?.stop();
  });

  // The candidates each shell offers for a command line whose last word is being typed.
  const bash = (line: string[]) => {
    const r = spawnSync('bash', ['-c', `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _berth; printf '%s\\n' "\${COMPREPLY[@]}"`, 'x', scripts.bash, ...line], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    return r.stdout.split('\n').filter(Boolean).sort();
  };
  // zsh's compadd filters by the typed prefix; the stand-in does the same.
  const zsh = (line: string[]) => {
    const r = spawnSync('zsh', ['-fc', `source "$1"; shift; compadd() { [[ $1 == -- ]] && shift; local w; for w in "$@"; do [[ $w == "\${words[CURRENT]}"* ]] && print -r -- $w; done; }; words=("$@"); CURRENT=$#; _berth`, 'x', scripts.zsh, ...line], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  };
  const fish = (line: string[]) => {
    const r = spawnSync('fish', ['-c', `source $argv[1]; complete -C "$argv[2]"`, scripts.fish, line.join(' ')], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]).sort();
  };

  const cases: [string[], (got: string[]) => void][] = [
    [['berth', 'con'], (g) => assert.deepEqual(g, ['container', 'context'])],
    [['berth', 'container', 'l'], (g) => assert.deepEqual(g, ['list', 'logs', 'ls'])],
    [['berth', 'run', '--rm', '--na'], (g) => assert.deepEqual(g, ['--name'])],
    [['berth', '-H', 'unix:///x', 'volume', 'ls', '--fo'], (g) => assert.deepEqual(g, ['--format'])],
    [['berth', 'rm', 'compl'], (g) => assert.deepEqual(g, ['compl-web'])],
    [['berth', '--context', ''], (g) => assert.ok(g.includes('default'), String(g))],
    [['berth', 'completion', ''], (g) => assert.deepEqual(g, ['bash', 'fish', 'zsh'])],
  ];
  for (const [sh, ask] of [['bash', bash], ['zsh', zsh], ['fish', fish]] as const) {
    it(`${sh}: commands, subcommands, flags, values and containers`, { skip: need(sh) }, () => {
      for (const [line, check] of cases) {
        // fish completes the word being typed from the line as given.
        const l = sh === 'fish' && line[line.length - 1] === '' ? [...line.slice(0, -1), ''] : line;
        try {
          check(ask(l));
        } catch (e) {
          throw new Error(`${sh} ${JSON.stringify(line)}: ${(e as Error).message}`);
        }
      }
    });
  }

  it('bash: every command, group and flag of the table is offered', () => {
    const top = bash(['berth', '']);
    for (const c of ['run', 'ps', 'inspect', 'completion', 'docs', 'container', 'image', 'network', 'volume', 'system', 'context']) assert.ok(top.includes(c), c);
    const help = spawnSync(BERTH, ['run', '--help'], { encoding: 'utf8' }).stdout;
    const flags = [...help.matchAll(/^ {2}(?:-\w, )? *(--[\w-]+)/gm)].map((m) => m[1]);
    assert.ok(flags.length > 50);
    const offered = new Set(bash(['berth', 'run', '--']));
    for (const f of flags) assert.ok(offered.has(f), f);
  });

  it('man pages: one per command, rendered by man -l, listing the flags --help lists', { skip: have('man') ? false : 'man is not installed' }, async () => {
    const dir = path.join(d.base, 'man');
    const r = spawnSync('node', [path.join(ROOT, 'scripts', 'man.mjs'), dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const pages = fs.readdirSync(dir);
    for (const p of ['berth.1', 'berth-run.1', 'berth-container-ls.1', 'berth-context-use.1', 'berth-completion.1', 'berthd.8']) assert.ok(pages.includes(p), p);
    for (const [page, args] of [['berth-run.1', ['run']], ['berth-context-create.1', ['context', 'create']], ['berth.1', []]] as const) {
      const text = spawnSync('man', ['-l', path.join(dir, page)], { encoding: 'utf8', env: { ...process.env, MANPAGER: 'cat', MANWIDTH: '200' } });
      assert.equal(text.status, 0, text.stderr);
      const help = spawnSync(BERTH, [...args, '--help'], { encoding: 'utf8' }).stdout;
      for (const m of help.matchAll(/^ {2}(?:-\w, )? *--([\w-]+)/gm)) assert.match(text.stdout, new RegExp(`--${m[1]}\\b`), `${page}: --${m[1]}`);
    }
    const bd = spawnSync('man', ['-l', path.join(dir, 'berthd.8')], { encoding: 'utf8', env: { ...process.env, MANPAGER: 'cat', MANWIDTH: '200' } });
    assert.equal(bd.status, 0);
    for (const f of ['--registry-mirror', '--max-concurrent-downloads', '--data-root', '--insecure-registry']) assert.ok(bd.stdout.includes(f), f);
  });
});
