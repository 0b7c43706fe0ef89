import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hoistComposeFlags } from '../../../src/cli/commands/compose/flags';

describe('hoistComposeFlags', () => {
  it('moves the project flags after the subcommand, in their long form', () => {
    assert.deepEqual(hoistComposeFlags(['-f', 'a.yml', '-p', 'x', 'logs', '-f', 'web']), ['logs', '--file=a.yml', '--project-name=x', '-f', 'web']);
    assert.deepEqual(hoistComposeFlags(['--file=a.yml', '-fb.yml', '--profile', 'dbg', '--dry-run', 'up', '-d']), ['up', '--file=a.yml', '--file=b.yml', '--profile=dbg', '--dry-run', '-d']);
    assert.deepEqual(hoistComposeFlags(['up', '-d']), ['up', '-d']);
    assert.deepEqual(hoistComposeFlags(['-f', 'a.yml']), ['--file=a.yml']);
    // An unknown flag is left where it is, for the parser to name.
    assert.deepEqual(hoistComposeFlags(['--nope', 'up']), ['--nope', 'up']);
  });
});
