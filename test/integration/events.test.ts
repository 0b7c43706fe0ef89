// docker events against a real berthd: live and past events with Docker's
// fields, filters, since and until, and the 400s for bad input.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { api, docker, importBusybox, startDaemon, type TestDaemon } from './harness';

describe('docker events', { timeout: 180_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  const run = async (...args: string[]) => {
    const r = await docker(d, ...args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  // Runs `docker events args…` until its output has a line matching `until`.
  async function follow(args: string[], until: RegExp, act: () => Promise<void>): Promise<string[]> {
    const child = spawn('docker', ['events', ...args], { env: d.env });
    let text = '';
    child.stdout.on('data', (b: Buffer) => { text += b.toString(); });
    // The CLI is subscribed once the daemon has the request.
    for (;;) {
      if (/GET \/v[\d.]+\/events/.test(d.log())) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await act();
    while (!until.test(text)) await new Promise((r) => setTimeout(r, 20));
    // The CLI may linger after SIGTERM (it keeps redrawing a stream that
    // ended): SIGKILL, and wait for it, so nothing outlives the test.
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    return text.trim().split('\n');
  }

  it('streams container and image events live with Docker\'s fields', async () => {
    const lines = await follow(['--format', '{{json .}}'], /"Action":"tag"/, async () => {
      await run('run', '--rm', '--name', 'ev1', '--label', 'team=a', 'busybox', 'true');
      await run('tag', 'busybox', 'ev:1');
    });
    const events = lines.map((l) => JSON.parse(l));
    // docker run attaches before it starts, and dockerd logs the attach too.
    assert.deepEqual(events.map((e) => `${e.Type} ${e.Action}`), ['container create', 'container attach', 'network connect', 'container start', 'container die', 'network disconnect', 'container destroy', 'image tag']);
    const create = events[0];
    assert.equal(create.status, 'create');
    assert.equal(create.id, create.Actor.ID);
    assert.equal(create.from, 'busybox');
    assert.equal(create.scope, 'local');
    assert.deepEqual(create.Actor.Attributes, { image: 'busybox', name: 'ev1', team: 'a' });
    assert.equal(events[4].Actor.Attributes.exitCode, '0');
    assert.deepEqual(events[2].Actor.Attributes, { container: create.id, name: 'bridge', type: 'bridge' });
    assert.equal(String(create.time), String(create.timeNano).slice(0, 10));
    assert.equal(events[7].Actor.Attributes.name, 'ev:1');
  });

  it('filters by type, container (name or id), event, image and label', async () => {
    const id = await run('create', '--name', 'flt', '--label', 'k=v', 'busybox', 'sleep', '100');
    const lines = await follow(
      ['--filter', 'container=flt', '--filter', 'event=start', '--filter', 'event=pause', '--filter', 'event=unpause', '--filter', 'event=kill', '--filter', 'label=k=v', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'],
      /kill flt/,
      async () => {
        await run('run', '--rm', 'busybox', 'true'); // another container: filtered out
        await run('start', 'flt');
        await run('pause', 'flt');
        await run('unpause', 'flt');
        await run('kill', 'flt');
      },
    );
    assert.deepEqual(lines, ['container start flt', 'container pause flt', 'container unpause flt', 'container kill flt']);
    const byId = await run('events', '--since', '5m', '--until', (Date.now() / 1000).toFixed(3), '--filter', `container=${id.slice(0, 12)}`, '--filter', 'type=container', '--filter', 'image=busybox', '--format', '{{.Action}}');
    assert.deepEqual(byId.split('\n').slice(0, 3), ['create', 'start', 'pause']);
    const images = await run('events', '--since', '5m', '--until', (Date.now() / 1000).toFixed(3), '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.Attributes.name}}');
    assert.match(images, /^tag ev:1$/m);
    await run('rm', 'flt');
  });

  it('renames and its event carry the old name', async () => {
    await run('create', '--name', 'rn1', 'busybox', 'true');
    await run('rename', 'rn1', 'rn2');
    // (--until 0s is now in whole seconds: this second's events would be left out.)
    const out = await run('events', '--since', '1m', '--until', (Date.now() / 1000).toFixed(3), '--filter', 'event=rename', '--format', '{{.Actor.Attributes.name}} {{.Actor.Attributes.oldName}}');
    assert.equal(out, 'rn2 /rn1');
    await run('rm', 'rn2');
  });

  it('gives past events for since/until (seconds, RFC 3339, durations) and ends at until', async () => {
    const before = Date.now() / 1000;
    await run('create', '--name', 'past1', 'busybox', 'true');
    const mid = Date.now() / 1000;
    await run('rm', 'past1');
    const all = await run('events', '--since', String(before), '--until', String(Date.now() / 1000), '--format', '{{.Action}} {{.Actor.Attributes.name}}');
    assert.deepEqual(all.split('\n'), ['create past1', 'destroy past1']);
    const upToMid = await run('events', '--since', new Date(before * 1000).toISOString(), '--until', new Date(mid * 1000).toISOString(), '--format', '{{.Action}}');
    assert.equal(upToMid, 'create');
    // An until in the future: past events, then live ones until that moment.
    const lines = await follow(['--since', '30s', '--until', String(Date.now() / 1000 + 600), '--filter', 'container=fut', '--format', '{{.Action}}'], /create\n/, async () => {
      await run('create', '--name', 'fut', 'busybox', 'true');
    });
    assert.deepEqual(lines, ['create']);
    const r = await api(d, 'GET', `/events?until=${Math.floor(Date.now() / 1000) + 1}&filters=${encodeURIComponent('{"container":["fut"]}')}`);
    assert.equal(r.status, 200, 'the stream ends at until');
    assert.deepEqual(r.body.trim().split('\n').map((l) => JSON.parse(l).Action), ['create']);
    await run('rm', 'fut');
  });

  it('dockerode reads the stream', async () => {
    const client = new Docker({ socketPath: d.socket });
    const stream = await client.getEvents({ since: Math.floor(Date.now() / 1000) - 300, until: Math.floor(Date.now() / 1000) + 1, filters: { event: ['rename'] } });
    let text = '';
    for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
    assert.equal(JSON.parse(text.trim().split('\n')[0]).Action, 'rename');
  });

  it('answers 400 for bad filters and times, and keeps serving', async () => {
    for (const q of [
      `filters=${encodeURIComponent('{"bogus":["x"]}')}`,
      'filters=notjson',
      'since=yesterday',
      'until=soon',
      'since=200&until=100',
    ]) {
      const r = await api(d, 'GET', `/events?${q}`);
      assert.equal(r.status, 400, q);
      assert.ok(JSON.parse(r.body).message, q);
    }
    const bad = await docker(d, 'events', '--filter', 'bogus=1', '--until', '0s');
    assert.match(bad.stderr, /invalid filter 'bogus'/);
    assert.equal((await api(d, 'GET', '/_ping')).status, 200);
  });
});
