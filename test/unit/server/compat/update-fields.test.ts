// The update body table against the Engine API 1.51 spec: every field of
// UpdateConfig (Resources and RestartPolicy), with its type.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { UPDATE_FIELDS } from '../../../../src/server/compat/update-fields';
import { projectRoot } from '../../../../src/util/paths';

const spec = parse(fs.readFileSync(path.join(projectRoot(), 'third_party/docker-engine-api/docker-engine-api-1.51.yaml'), 'utf8'));

describe('the update field table', () => {
  test('has every field of UpdateConfig in the 1.51 spec, and no other', () => {
    const schema = spec.paths['/containers/{id}/update'].post.parameters.find((p: { name: string }) => p.name === 'update').schema;
    const props: Record<string, { type?: string }> = { ...spec.definitions.Resources.properties, ...schema.allOf[1].properties };
    for (const [k, p] of Object.entries(props)) {
      assert.ok(UPDATE_FIELDS[k], `${k} is missing from the table`);
      const t = UPDATE_FIELDS[k].type;
      assert.ok(p.type === undefined || (p.type === 'array' ? ['array', 'strings'].includes(t) : p.type === t), `${k}: ${p.type} vs ${t}`);
    }
    for (const k of Object.keys(UPDATE_FIELDS)) assert.ok(props[k], `${k} is not in the spec`);
  });
});
