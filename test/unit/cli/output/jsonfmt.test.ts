import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indentJSON, renderTemplate } from '../../../../src/cli/output/jsonfmt';

describe('inspect output', () => {
  it('re-indents raw JSON like Go json.Indent', () => {
    assert.equal(indentJSON('[{"a":1,"b":[],"c":{},"d":["x",{"e":null}],"s":"q\\"{,}"}]'), [
      '[',
      '    {',
      '        "a": 1,',
      '        "b": [],',
      '        "c": {},',
      '        "d": [',
      '            "x",',
      '            {',
      '                "e": null',
      '            }',
      '        ],',
      '        "s": "q\\"{,}"',
      '    }',
      ']',
    ].join('\n'));
  });

  it('renders simple Go templates', () => {
    const data = { Id: 'abc', State: { Status: 'running', Pid: 42 }, Config: { Env: ['A=1', 'B=2'], Labels: { k: 'v' } } };
    assert.equal(renderTemplate('{{.State.Status}} {{.State.Pid}}', data), 'running 42');
    assert.equal(renderTemplate('{{json .Config.Env}}', data), '["A=1","B=2"]');
    assert.equal(renderTemplate('{{index .Config.Labels "k"}}', data), 'v');
    assert.equal(renderTemplate('{{.Config.Env}}|{{.Config.Labels}}|{{.Nope}}', data), '[A=1 B=2]|map[k:v]|<no value>');
  });
});
