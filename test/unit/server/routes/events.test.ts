// /events' message shape and dockerd's filter rules.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EngineEvent } from '../../../../src/engine/events/bus';
import { eventFilter, eventJSON } from '../../../../src/server/routes/events';

const ID = 'f'.repeat(64);
const ev = (over: Partial<EngineEvent>): EngineEvent => ({ type: 'container', action: 'start', id: ID, attributes: { name: 'web', image: 'busybox:latest', tier: 'db' }, timeNano: 1796312919329243638n, ...over });
const filter = (f: Record<string, string[]>) => eventFilter(new Map(Object.entries(f)));

describe('eventJSON', () => {
  test('a container event carries the legacy status, id and from, and the exact timeNano', () => {
    const text = eventJSON(ev({}));
    assert.ok(text.endsWith(',"timeNano":1796312919329243638}'), text);
    const o = JSON.parse(text);
    assert.deepEqual(Object.keys(o), ['status', 'id', 'from', 'Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
    assert.equal(o.status, 'start');
    assert.equal(o.from, 'busybox:latest');
    assert.deepEqual(o.Actor, { ID, Attributes: { name: 'web', image: 'busybox:latest', tier: 'db' } });
    assert.equal(o.scope, 'local');
    assert.equal(o.time, 1796312919);
  });

  test('an image event has status and id but no from; others neither', () => {
    assert.deepEqual(Object.keys(JSON.parse(eventJSON(ev({ type: 'image', action: 'tag' })))).slice(0, 3), ['status', 'id', 'Type']);
    assert.equal(Object.keys(JSON.parse(eventJSON(ev({ type: 'network' }))))[0], 'Type');
  });
});

describe('eventFilter', () => {
  test('no filters pass everything', () => {
    assert.ok(filter({})(ev({})));
  });

  test('container matches the id, an id prefix or the name', () => {
    assert.ok(filter({ container: [ID] })(ev({})));
    assert.ok(filter({ container: ['fff'] })(ev({})));
    assert.ok(filter({ container: ['web'] })(ev({})));
    assert.ok(!filter({ container: ['db'] })(ev({})));
  });

  test('image matches the name with or without its tag', () => {
    assert.ok(filter({ image: ['busybox'] })(ev({})));
    assert.ok(filter({ image: ['busybox:latest'] })(ev({})));
    assert.ok(!filter({ image: ['alpine'] })(ev({})));
    assert.ok(filter({ image: ['foo'] })(ev({ type: 'image', action: 'tag', id: 'sha256:1', attributes: { name: 'foo:1' } })));
  });

  test('type and event are exact; exec_start matches its command by prefix', () => {
    assert.ok(filter({ type: ['container'], event: ['start', 'stop'] })(ev({})));
    assert.ok(!filter({ type: ['image'] })(ev({})));
    assert.ok(!filter({ event: ['sta'] })(ev({})));
    assert.ok(filter({ event: ['exec_start'] })(ev({ action: 'exec_start: sh -c true' })));
    assert.ok(!filter({ event: ['exec_die'] })(ev({ action: 'exec_start: sh -c true' })));
  });

  test('labels must all match, by key or key=value', () => {
    assert.ok(filter({ label: ['tier', 'tier=db'] })(ev({})));
    assert.ok(!filter({ label: ['tier=db', 'zone'] })(ev({})));
    assert.ok(!filter({ label: ['tier=web'] })(ev({})));
  });

  test('scope is local; daemon, network and volume match by id or name', () => {
    assert.ok(filter({ scope: ['local'] })(ev({})));
    assert.ok(!filter({ scope: ['swarm'] })(ev({})));
    assert.ok(!filter({ network: ['bridge'] })(ev({})));
    assert.ok(filter({ network: ['bridge'] })(ev({ type: 'network', id: 'abc', attributes: { name: 'bridge' } })));
  });

  test('an unknown filter is refused by name', () => {
    assert.throws(() => filter({ plugin: ['x'] }), /invalid filter 'plugin'/);
  });
});
