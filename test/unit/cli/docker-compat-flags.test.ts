// berth knows every flag the docker CLI has for the commands berth has:
// same names, shorthands and value types (docker's `<cmd> --help`), whether
// berth applies the flag or refuses it; and every docker command is berth's
// or listed as not implemented. Skipped when `docker` is not on PATH.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { FlagSpec } from '../../../src/cli/args';
import type { CommandRef } from '../../../src/cli/commands';
import { GLOBAL_FLAGS } from '../../../src/cli/cli';
import { GROUPS, NOT_IMPLEMENTED, TOP } from '../../../src/cli/commands';

const haveDocker = spawnSync('docker', ['--version']).status === 0;

// name -> "-s type" from docker's help, one flag a line at this width.
function dockerFlags(path: string[]): Map<string, string> {
  const r = spawnSync('docker', [...path, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '1000' } });
  const flags = new Map<string, string>();
  let inOptions = false;
  for (const line of r.stdout.split('\n')) {
    if (/^(Global )?Options:$/.test(line)) inOptions = true;
    else if (!line.trim()) inOptions = false;
    const m = inOptions && /^ {2}(?:-(\w), )? *--([\w-]+)(?: (\S+))?(?: {2,}|$)/.exec(line);
    if (m) flags.set(m[2], `${m[1] ?? ''} ${m[3] ?? 'bool'}`);
  }
  return flags;
}

function berthFlags(specs: FlagSpec[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (const s of specs) if (!s.hidden) flags.set(s.name, `${s.short ?? ''} ${s.type === 'bool' ? 'bool' : s.meta ?? s.type}`);
  return flags;
}

const paths: [string[], CommandRef][] = [
  // docs is berth's own (docker has no such command).
  ...TOP.filter((c) => c.name !== 'docs').map((c) => [[c.name], c] as [string[], CommandRef]),
  ...Object.entries(GROUPS)
    // compose is a CLI plugin of docker's, which this machine lacks (Debian ships no compose v2).
    .filter(([g]) => g !== 'base' && g !== 'compose')
    .flatMap(([g, group]) => Object.entries(group.commands).map(([n, c]) => [[g, n], c] as [string[], CommandRef])),
];

describe('berth knows the docker CLI flags of its commands', { skip: haveDocker ? false : 'docker CLI not on PATH' }, () => {
  for (const [path, ref] of paths) {
    it(path.join(' '), async () => {
      const cmd = await ref.load();
      const docker = dockerFlags(path);
      assert.ok(docker.size > 0 || ['wait', 'tag', 'logout', 'diff', 'top', 'pause', 'unpause', 'rename', 'port', 'show', 'use', 'completion', 'docs'].includes(cmd.name), `no flags read from docker ${path.join(' ')} --help`);
      const ours = berthFlags(cmd.flags);
      docker.delete('help');
      ours.delete('help');
      assert.deepEqual(Object.fromEntries([...ours].sort()), Object.fromEntries([...docker].sort()));
    });
  }

  it('global options', () => {
    const docker = dockerFlags([]);
    assert.ok(docker.has('tlsverify'), 'no global options read from docker --help');
    const ours = berthFlags(GLOBAL_FLAGS);
    ours.delete('help');
    assert.deepEqual(Object.fromEntries([...ours].sort()), Object.fromEntries([...docker].sort()));
  });

  it('every docker command is berth\'s or known as not implemented', () => {
    const commands = (path: string[]) => {
      const out = spawnSync('docker', [...path, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '1000' } }).stdout;
      return [...out.matchAll(/^[A-Za-z ]*Commands:\n((?: {2}\S.*\n)+)/gm)].flatMap((m) => m[1].split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/)[0]));
    };
    const top = commands([]);
    assert.ok(top.includes('exec') && top.includes('network'), 'no commands read from docker --help');
    const berthTop = new Set([...TOP.map((c) => c.name), ...Object.keys(GROUPS)]);
    const groups = top.filter((n) => n in NOT_IMPLEMENTED.groups || n in GROUPS);
    assert.deepEqual(top.filter((n) => !berthTop.has(n) && !groups.includes(n)).sort(), [...NOT_IMPLEMENTED.top].sort());
    for (const g of groups) {
      const subs = commands([g]);
      const missing = subs.filter((s) => !GROUPS[g]?.commands[s]);
      assert.deepEqual(missing.filter((s) => !NOT_IMPLEMENTED.groups[g]?.includes(s)), [], g);
    }
    assert.deepEqual(Object.keys(NOT_IMPLEMENTED.groups).filter((g) => !groups.includes(g)), []);
  });
});
