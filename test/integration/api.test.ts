// The raw Engine API against a real berthd: headers, versioned paths,
// container lifecycle and its JSON shapes, wait conditions, stdcopy-framed
// logs and attach (HTTP upgrade), images, and daemons side by side.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, busyboxTarFile, docker, importBusybox, sleep, startDaemon, type TestDaemon } from './harness';

const ZERO_TIME = '0001-01-01T00:00:00Z';
const RFC3339NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
// Busybox sh ignores SIGTERM as pid 1 unless it traps it.
const LOOP = 'trap "exit 0" TERM; while :; do sleep 0.1; done';

interface Frame {
  stream: number;
  data: Buffer;
}

// Splits Docker's stdcopy stream: [stream, 0, 0, 0, len(4, big-endian)] + payload.
function parseFrames(buf: Buffer): Frame[] {
  const out: Frame[] = [];
  let off = 0;
  while (off < buf.length) {
    assert.ok(buf.length - off >= 8, `truncated frame header at ${off} of ${buf.length}`);
    const stream = buf[off];
    assert.ok(stream === 1 || stream === 2, `bad stream byte ${stream} at ${off}`);
    assert.deepEqual([...buf.subarray(off + 1, off + 4)], [0, 0, 0], 'header padding is zero');
    const len = buf.readUInt32BE(off + 4);
    assert.ok(off + 8 + len <= buf.length, `truncated frame payload at ${off}`);
    out.push({ stream, data: buf.subarray(off + 8, off + 8 + len) });
    off += 8 + len;
  }
  return out;
}

const joined = (frames: Frame[], stream: number) => Buffer.concat(frames.filter((f) => f.stream === stream).map((f) => f.data)).toString();

// Like api(), but keeps the body as bytes (stdcopy headers are binary).
function apiRaw(d: TestDaemon, method: string, p: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, path: p, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function getJSON(d: TestDaemon, p: string): Promise<any> {
  const r = await api(d, 'GET', p);
  assert.equal(r.status, 200, `GET ${p}: ${r.body}`);
  return JSON.parse(r.body);
}

async function create(d: TestDaemon, body: object, name?: string): Promise<string> {
  const r = await api(d, 'POST', `/containers/create${name ? `?name=${encodeURIComponent(name)}` : ''}`, JSON.stringify(body));
  assert.equal(r.status, 201, r.body);
  const out = JSON.parse(r.body);
  assert.match(out.Id, /^[0-9a-f]{64}$/);
  return out.Id;
}

async function inspect(d: TestDaemon, id: string): Promise<any> {
  return getJSON(d, `/containers/${id}/json`);
}

async function removeForce(d: TestDaemon, ...ids: string[]): Promise<void> {
  for (const id of ids) await api(d, 'DELETE', `/containers/${id}?force=1`);
}

// A request whose response is observed in two steps: headers, then body.
interface Pending {
  headers: Promise<http.IncomingMessage>;
  body: Promise<string>;
}

function pending(d: TestDaemon, method: string, p: string): Pending {
  let resolveBody!: (s: string) => void;
  let rejectBody!: (e: Error) => void;
  const body = new Promise<string>((res, rej) => { resolveBody = res; rejectBody = rej; });
  body.catch(() => {}); // observed by the caller when it awaits
  const headers = new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, path: p, method }, (res) => {
      resolve(res);
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolveBody(Buffer.concat(chunks).toString()));
      res.on('error', rejectBody);
    });
    req.on('error', (e) => { reject(e); rejectBody(e); });
    req.end();
  });
  return { headers, body };
}

// Resolves to 'pending' if p has not settled within ms.
async function settledWithin<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p, new Promise<'pending'>((res) => { timer = setTimeout(() => res('pending'), ms); })]);
  clearTimeout(timer);
  return r;
}

interface Upgraded {
  res: http.IncomingMessage;
  socket: Duplex;
  output: Promise<Buffer>; // everything read until the daemon ends the stream
}

function attachUpgrade(d: TestDaemon, id: string, query: string): Promise<Upgraded> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      socketPath: d.socket,
      method: 'POST',
      path: `/containers/${id}/attach?${query}`,
      headers: { 'Content-Type': 'text/plain', Connection: 'Upgrade', Upgrade: 'tcp' },
    });
    req.on('upgrade', (res, socket, head) => {
      const chunks: Buffer[] = head.length ? [head] : [];
      const output = new Promise<Buffer>((done, fail) => {
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('end', () => done(Buffer.concat(chunks)));
        socket.on('error', fail);
      });
      output.catch(() => {});
      resolve({ res, socket, output });
    });
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`attach answered ${res.statusCode} instead of upgrading`));
    });
    req.on('error', reject);
    req.end();
  });
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const r = await settledWithin(p, ms);
  if (r === 'pending') throw new Error(`timed out after ${ms}ms: ${what}`);
  return r;
}

describe('Engine API', { timeout: 120_000 }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => {
    await d?.stop();
  });

  describe('system', () => {
    for (const method of ['GET', 'HEAD']) {
      it(`answers ${method} /_ping with Docker's headers`, async () => {
        const r = await api(d, method, '/_ping');
        assert.equal(r.status, 200);
        assert.equal(r.headers['api-version'], '1.51');
        assert.equal(r.headers['ostype'], 'linux');
        assert.ok(r.headers['docker-experimental'] === 'false' || r.headers['docker-experimental'] === 'true', `Docker-Experimental: ${r.headers['docker-experimental']}`);
        assert.ok(r.headers['server'] && r.headers['server'].length > 0, 'Server header');
        assert.equal(r.body, method === 'GET' ? 'OK' : '');
      });
    }

    it('serves versioned and unversioned paths alike', async () => {
      for (const prefix of ['', '/v1.24', '/v1.51', '/v1.40']) {
        const v = await getJSON(d, `${prefix}/version`);
        assert.equal(v.ApiVersion, '1.51', prefix);
        const ping = await api(d, 'GET', `${prefix}/_ping`);
        assert.equal(ping.status, 200, prefix);
        assert.equal(ping.body, 'OK');
        assert.ok(Array.isArray(await getJSON(d, `${prefix}/containers/json?all=1`)), prefix);
        assert.ok(Array.isArray(await getJSON(d, `${prefix}/images/json`)), prefix);
      }
    });

    it('rejects API versions below the minimum and above the maximum with 400', async () => {
      const old = await api(d, 'GET', '/v1.12/version');
      assert.equal(old.status, 400, old.body);
      assert.match(JSON.parse(old.body).message, /minimum supported API version is 1\.24/i);
      const future = await api(d, 'GET', '/v9.99/version');
      assert.equal(future.status, 400, future.body);
      assert.match(JSON.parse(future.body).message, /9\.99/);
    });

    it('reports /version', async () => {
      const v = await getJSON(d, '/version');
      assert.equal(v.ApiVersion, '1.51');
      assert.equal(v.MinAPIVersion, '1.24');
      assert.equal(v.Os, 'linux');
      assert.ok(typeof v.Version === 'string' && v.Version.length > 0);
      assert.ok(typeof v.Arch === 'string' && v.Arch.length > 0);
      assert.ok(typeof v.KernelVersion === 'string' && v.KernelVersion.length > 0);
      const engine = v.Components.find((c: any) => c.Name === 'Engine');
      assert.ok(engine, JSON.stringify(v.Components));
      assert.equal(engine.Details.ApiVersion, '1.51');
      assert.equal(engine.Details.MinAPIVersion, '1.24');
    });

    it('reports /info with counts that follow the containers', async () => {
      const info0 = await getJSON(d, '/info');
      assert.match(info0.ID, /\S/);
      assert.equal(info0.Driver, 'overlay2');
      assert.equal(info0.DockerRootDir, d.dataRoot);
      assert.equal(info0.OSType, 'linux');
      assert.equal(info0.Images, 1);
      assert.ok(info0.NCPU > 0);
      assert.ok(info0.MemTotal > 0);
      assert.ok(info0.KernelVersion.length > 0);
      assert.ok(info0.ServerVersion.length > 0);
      assert.equal(info0.DefaultRuntime, 'runc');
      assert.ok(info0.Runtimes.runc, JSON.stringify(info0.Runtimes));
      assert.ok(Date.parse(info0.SystemTime) > 0);

      const id = await create(d, { Image: 'busybox', Cmd: ['sh', '-c', LOOP] });
      try {
        const info1 = await getJSON(d, '/info');
        assert.equal(info1.Containers, info0.Containers + 1);
        assert.equal(info1.ContainersStopped, info0.ContainersStopped + 1);
        assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
        const info2 = await getJSON(d, '/info');
        assert.equal(info2.ContainersRunning, info0.ContainersRunning + 1);
        assert.equal(info2.Containers, info2.ContainersRunning + info2.ContainersPaused + info2.ContainersStopped);
      } finally {
        await removeForce(d, id);
      }
    });
  });

  describe('containers', () => {
    it('lists containers with all, limit and the status, name, id and label filters', async () => {
      const a = await create(d, { Image: 'busybox', Cmd: ['true'], Labels: { group: 'g1', role: 'db' } }, 'flt-a');
      const b = await create(d, { Image: 'busybox', Cmd: ['sh', '-c', LOOP], Labels: { group: 'g1', role: 'web' } }, 'flt-b');
      const c = await create(d, { Image: 'busybox', Cmd: ['true'], Labels: { group: 'g2' } }, 'other-c');
      const ours = new Set([a, b, c]);
      try {
        assert.equal((await api(d, 'POST', `/containers/${b}/start`)).status, 204);
        const ids = async (q: string) => ((await getJSON(d, `/containers/json${q}`)) as any[]).map((x) => x.Id).filter((id) => ours.has(id));
        const f = (o: object) => `filters=${encodeURIComponent(JSON.stringify(o))}`;

        assert.deepEqual(await ids(''), [b], 'running only by default');
        assert.deepEqual(await ids('?all=1'), [c, b, a], 'all, newest first');
        assert.deepEqual(await ids('?all=true'), [c, b, a]);
        assert.deepEqual(await ids('?all=0'), [b]);
        const limited = await getJSON(d, '/containers/json?limit=2');
        assert.deepEqual(limited.map((x: any) => x.Id), [c, b], 'limit counts stopped ones too');
        assert.deepEqual(await ids(`?${f({ status: ['created'] })}`), [c, a], 'status filter implies all');
        assert.deepEqual(await ids(`?all=1&${f({ status: ['running'] })}`), [b]);
        assert.deepEqual(await ids(`?all=1&${f({ status: ['created', 'running'] })}`), [c, b, a]);
        assert.deepEqual(await ids(`?all=1&${f({ name: ['flt-'] })}`), [b, a], 'name is a substring/regexp match');
        assert.deepEqual(await ids(`?all=1&${f({ name: ['flt-a'] })}`), [a]);
        assert.deepEqual(await ids(`?all=1&${f({ name: ['nomatch'] })}`), []);
        assert.deepEqual(await ids(`?all=1&${f({ id: [c.slice(0, 10)] })}`), [c]);
        assert.deepEqual(await ids(`?all=1&${f({ id: [a] })}`), [a]);
        assert.deepEqual(await ids(`?all=1&${f({ label: ['group'] })}`), [c, b, a], 'label key');
        assert.deepEqual(await ids(`?all=1&${f({ label: ['role'] })}`), [b, a]);
        assert.deepEqual(await ids(`?all=1&${f({ label: ['group=g1'] })}`), [b, a], 'label key=value');
        assert.deepEqual(await ids(`?all=1&${f({ label: ['role=web'] })}`), [b]);
        assert.deepEqual(await ids(`?all=1&${f({ label: ['group=g1'], status: ['created'] })}`), [a], 'different keys AND together');
        // The old map form of filters, still sent by some clients.
        assert.deepEqual(await ids(`?all=1&${f({ label: { 'role=web': true } })}`), [b]);

        const list = await getJSON(d, '/containers/json?all=1');
        const sa = list.find((x: any) => x.Id === a);
        assert.deepEqual(sa.Names, ['/flt-a']);
        assert.equal(sa.Image, 'busybox');
        assert.match(sa.ImageID, /^sha256:[0-9a-f]{64}$/);
        assert.equal(sa.Command, 'true');
        assert.equal(typeof sa.Created, 'number');
        assert.ok(Math.abs(sa.Created - Date.now() / 1000) < 120, `Created ${sa.Created} is unix seconds`);
        assert.equal(sa.State, 'created');
        assert.equal(sa.Status, 'Created');
        assert.deepEqual(sa.Labels, { group: 'g1', role: 'db' });
        const sb = list.find((x: any) => x.Id === b);
        assert.equal(sb.State, 'running');
        assert.match(sb.Status, /^Up /);
      } finally {
        await removeForce(d, a, b, c);
      }
    });

    // Docker's MatchKVList: every label filter must match (other keys OR their values).
    it('requires every label filter to match', async () => {
      const a = await create(d, { Image: 'busybox', Cmd: ['true'], Labels: { group: 'g1', role: 'db' } });
      const b = await create(d, { Image: 'busybox', Cmd: ['true'], Labels: { group: 'g1', role: 'web' } });
      const c = await create(d, { Image: 'busybox', Cmd: ['true'], Labels: { role: 'db' } });
      try {
        const q = (o: object) => `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify(o))}`;
        const ids = async (o: object) => ((await getJSON(d, q(o))) as any[]).map((x) => x.Id).filter((id) => [a, b, c].includes(id));
        assert.deepEqual(await ids({ label: ['group=g1', 'role=db'] }), [a]);
        assert.deepEqual(await ids({ label: ['group', 'role'] }), [b, a]);
        assert.deepEqual(await ids({ label: ['group=g1', 'nosuchlabel'] }), []);
      } finally {
        await removeForce(d, a, b, c);
      }
    });

    it('runs the lifecycle create, start, inspect, stop, wait, delete with Docker status codes', async () => {
      const id = await create(d, { Image: 'busybox', Cmd: ['sh', '-c', LOOP], Labels: { app: 'life' }, Env: ['FOO=bar'] }, 'life');
      let removed = false;
      try {
        // The create answer itself: 201, {Id, Warnings}.
        const insp0 = await inspect(d, 'life');
        assert.equal(insp0.Id, id);
        assert.equal(insp0.Name, '/life');
        assert.match(insp0.Created, RFC3339NANO);
        assert.ok(Math.abs(Date.parse(insp0.Created) - Date.now()) < 120_000);
        assert.equal(insp0.Path, 'sh');
        assert.deepEqual(insp0.Args, ['-c', LOOP]);
        for (const k of ['Status', 'Running', 'Paused', 'Restarting', 'OOMKilled', 'Dead', 'Pid', 'ExitCode', 'Error', 'StartedAt', 'FinishedAt']) {
          assert.ok(k in insp0.State, `State.${k} missing: ${JSON.stringify(insp0.State)}`);
        }
        assert.equal(insp0.State.Status, 'created');
        assert.equal(insp0.State.Running, false);
        assert.equal(insp0.State.Paused, false);
        assert.equal(insp0.State.ExitCode, 0);
        assert.equal(insp0.State.Pid, 0);
        assert.equal(insp0.State.StartedAt, ZERO_TIME);
        assert.equal(insp0.State.FinishedAt, ZERO_TIME);
        assert.equal(insp0.Config.Image, 'busybox');
        assert.deepEqual(insp0.Config.Cmd, ['sh', '-c', LOOP]);
        assert.equal(insp0.Config.Labels.app, 'life');
        assert.ok(insp0.Config.Env.includes('FOO=bar'), JSON.stringify(insp0.Config.Env));
        assert.equal(typeof insp0.HostConfig, 'object');
        assert.equal(insp0.HostConfig.NetworkMode, 'bridge');
        assert.equal(insp0.HostConfig.AutoRemove, false);
        assert.deepEqual(insp0.Mounts, []);
        assert.equal(insp0.GraphDriver.Name, 'overlay2');
        for (const k of ['LowerDir', 'UpperDir', 'WorkDir', 'MergedDir']) assert.ok(insp0.GraphDriver.Data[k], `GraphDriver.Data.${k}`);
        assert.match(insp0.Image, /^sha256:[0-9a-f]{64}$/);
        // Inspect by short id and by "/name" too.
        assert.equal((await inspect(d, id.slice(0, 12))).Id, id);
        assert.equal((await inspect(d, encodeURIComponent('/life'))).Id, id);

        const start = await api(d, 'POST', `/containers/${id}/start`);
        assert.equal(start.status, 204, start.body);
        assert.equal(start.body, '');
        const again = await api(d, 'POST', `/containers/${id}/start`);
        assert.equal(again.status, 304, 'second start is "not modified"');
        assert.equal(again.body, '');

        const insp1 = await inspect(d, id);
        assert.equal(insp1.State.Status, 'running');
        assert.equal(insp1.State.Running, true);
        assert.ok(insp1.State.Pid > 0);
        assert.match(insp1.State.StartedAt, RFC3339NANO);
        assert.ok(Date.parse(insp1.State.StartedAt) >= Date.parse(insp1.Created));
        assert.equal(insp1.State.FinishedAt, ZERO_TIME);
        assert.ok(fs.existsSync(`/proc/${insp1.State.Pid}`), 'the process is alive');
        // The shell catches TERM once it has run its trap (SigCgt bit 14):
        // a stop before that, on a loaded machine, would find no handler.
        const caught = () => BigInt('0x' + (/^SigCgt:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(`/proc/${insp1.State.Pid}/status`, 'utf8'))?.[1] ?? '0'));
        for (let i = 0; i < 100 && !(caught() & (1n << 14n)); i++) await new Promise((r) => setTimeout(r, 50));

        const stop = await api(d, 'POST', `/containers/${id}/stop?t=5`);
        assert.equal(stop.status, 204, stop.body);
        const stop2 = await api(d, 'POST', `/containers/${id}/stop`);
        assert.equal(stop2.status, 304, 'stop of a stopped container');
        const insp2 = await inspect(d, id);
        assert.equal(insp2.State.Status, 'exited');
        assert.equal(insp2.State.Running, false);
        assert.equal(insp2.State.Pid, 0);
        assert.equal(insp2.State.ExitCode, 0, 'the TERM trap exited 0');
        assert.ok(Date.parse(insp2.State.FinishedAt) >= Date.parse(insp2.State.StartedAt));

        // not-running: a stopped container answers at once.
        const t0 = Date.now();
        const w0 = await api(d, 'POST', `/containers/${id}/wait?condition=not-running`);
        assert.equal(w0.status, 200, w0.body);
        assert.equal(JSON.parse(w0.body).StatusCode, 0);
        assert.ok(Date.now() - t0 < 2000, 'not-running did not block');
        // The default condition is not-running too.
        assert.equal(JSON.parse((await api(d, 'POST', `/containers/${id}/wait`)).body).StatusCode, 0);

        // next-exit: blocks across a start until the next exit.
        const next = pending(d, 'POST', `/containers/${id}/wait?condition=next-exit`);
        assert.equal((await next.headers).statusCode, 200);
        assert.equal(await settledWithin(next.body, 300), 'pending', 'next-exit must not answer for the previous exit');
        assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
        assert.equal(await settledWithin(next.body, 300), 'pending', 'next-exit must not answer while running');
        const kill = await api(d, 'POST', `/containers/${id}/kill`);
        assert.equal(kill.status, 204, kill.body);
        const nextBody = JSON.parse(await withTimeout(next.body, 10_000, 'wait next-exit'));
        assert.equal(nextBody.StatusCode, 137);
        assert.equal((await inspect(d, id)).State.ExitCode, 137);

        // removed: resolves only after the DELETE.
        const rm = pending(d, 'POST', `/containers/${id}/wait?condition=removed`);
        assert.equal((await rm.headers).statusCode, 200);
        assert.equal(await settledWithin(rm.body, 300), 'pending', 'removed must wait for the removal');
        const del = await api(d, 'DELETE', `/containers/${id}`);
        assert.equal(del.status, 204, del.body);
        removed = true;
        const rmBody = JSON.parse(await withTimeout(rm.body, 10_000, 'wait removed'));
        assert.equal(rmBody.StatusCode, 137);

        const gone = await api(d, 'GET', `/containers/${id}/json`);
        assert.equal(gone.status, 404);
        assert.match(JSON.parse(gone.body).message, /No such container/);
        assert.equal((await api(d, 'DELETE', `/containers/${id}`)).status, 404);
        assert.ok(!fs.existsSync(path.join(d.dataRoot, 'containers', id)));
        assert.ok(!(await getJSON(d, '/containers/json?all=1')).some((c: any) => c.Id === id));
      } finally {
        if (!removed) await removeForce(d, id);
      }
    });

    it('sends the wait headers before the container exits', async () => {
      const id = await create(d, { Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.3; exit 5'] });
      try {
        const w = pending(d, 'POST', `/containers/${id}/wait?condition=next-exit`);
        const res = await withTimeout(w.headers, 5000, 'wait response headers for a created container');
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers['content-type']), /application\/json/);
        assert.equal((await inspect(d, id)).State.Status, 'created', 'headers arrived while still created');
        assert.equal(await settledWithin(w.body, 200), 'pending');
        assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
        const body = JSON.parse(await withTimeout(w.body, 10_000, 'wait body'));
        assert.equal(body.StatusCode, 5);
      } finally {
        await removeForce(d, id);
      }
    });
  });

  describe('logs', () => {
    let id: string;
    before(async () => {
      id = await create(d, { Image: 'busybox', Cmd: ['sh', '-c', 'echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2; sleep 0.1; echo err2 >&2'] }, 'logs1');
      assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
      const w = await api(d, 'POST', `/containers/${id}/wait`);
      assert.equal(JSON.parse(w.body).StatusCode, 0);
    });
    after(async () => {
      if (id) await removeForce(d, id);
    });

    it('returns stdcopy frames for stdout and stderr', async () => {
      const r = await apiRaw(d, 'GET', `/containers/${id}/logs?stdout=1&stderr=1`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
      const frames = parseFrames(r.body);
      assert.deepEqual(frames.map((f) => [f.stream, f.data.toString()]), [[1, 'out1\n'], [2, 'err1\n'], [1, 'out2\n'], [2, 'err2\n']]);
    });

    it('selects stdout or stderr alone', async () => {
      const out = parseFrames((await apiRaw(d, 'GET', `/containers/${id}/logs?stdout=1`)).body);
      assert.ok(out.every((f) => f.stream === 1));
      assert.equal(joined(out, 1), 'out1\nout2\n');
      const err = parseFrames((await apiRaw(d, 'GET', `/containers/${id}/logs?stderr=true`)).body);
      assert.ok(err.every((f) => f.stream === 2));
      assert.equal(joined(err, 2), 'err1\nerr2\n');
      const explicit = parseFrames((await apiRaw(d, 'GET', `/containers/${id}/logs?stdout=1&stderr=0`)).body);
      assert.equal(joined(explicit, 1), 'out1\nout2\n');
      assert.equal(joined(explicit, 2), '');
    });

    it('honours tail', async () => {
      const one = parseFrames((await apiRaw(d, 'GET', `/containers/${id}/logs?stdout=1&stderr=1&tail=1`)).body);
      assert.deepEqual(one.map((f) => [f.stream, f.data.toString()]), [[2, 'err2\n']]);
      const two = parseFrames((await apiRaw(d, 'GET', `/containers/${id}/logs?stdout=1&stderr=1&tail=2`)).body);
      assert.deepEqual(two.map((f) => [f.stream, f.data.toString()]), [[1, 'out2\n'], [2, 'err2\n']]);
      const all = parseFrames((await apiRaw(d, 'GET', `/containers/${id}/logs?stdout=1&stderr=1&tail=all`)).body);
      assert.equal(all.length, 4);
      const zero = await apiRaw(d, 'GET', `/containers/${id}/logs?stdout=1&stderr=1&tail=0`);
      assert.equal(zero.status, 200);
      assert.equal(zero.body.length, 0, 'tail=0 returns nothing');
    });

    it('prefixes timestamps', async () => {
      const frames = parseFrames((await apiRaw(d, 'GET', `/containers/${id}/logs?stdout=1&stderr=1&timestamps=1`)).body);
      assert.equal(frames.length, 4);
      let last = 0;
      for (const f of frames) {
        const s = f.data.toString();
        const sp = s.indexOf(' ');
        assert.match(s.slice(0, sp), RFC3339NANO, s);
        const t = Date.parse(s.slice(0, sp));
        assert.ok(t >= last, 'timestamps do not go back');
        assert.ok(Math.abs(t - Date.now()) < 120_000, `timestamp ${s.slice(0, sp)} is now-ish`);
        last = t;
      }
      assert.deepEqual(frames.map((f) => f.data.toString().replace(/^\S+ /, '')), ['out1\n', 'err1\n', 'out2\n', 'err2\n']);
    });

    it('rejects a request for neither stream with 400', async () => {
      for (const q of ['', '?stdout=0&stderr=0', '?tail=1']) {
        const r = await api(d, 'GET', `/containers/${id}/logs${q}`);
        assert.equal(r.status, 400, q);
        assert.match(JSON.parse(r.body).message, /at least one stream/i);
      }
    });
  });

  describe('attach', () => {
    it('streams framed output over an upgraded connection and ends it when the container exits', async () => {
      const id = await create(d, { Image: 'busybox', Cmd: ['sh', '-c', 'echo a1; sleep 0.1; echo e1 >&2; sleep 0.2; echo a2; exit 3'], AttachStdout: true, AttachStderr: true });
      try {
        const att = await withTimeout(attachUpgrade(d, id, 'stream=1&stdout=1&stderr=1'), 5000, 'attach upgrade');
        assert.equal(att.res.statusCode, 101);
        assert.equal(att.res.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
        assert.equal(String(att.res.headers['upgrade']).toLowerCase(), 'tcp');
        assert.equal(await settledWithin(att.output, 200), 'pending', 'nothing before start');
        const start = await api(d, 'POST', `/containers/${id}/start`);
        assert.equal(start.status, 204, start.body);
        const out = await withTimeout(att.output, 10_000, 'attach stream end');
        const frames = parseFrames(out);
        assert.equal(joined(frames, 1), 'a1\na2\n');
        assert.equal(joined(frames, 2), 'e1\n');
        const w = await api(d, 'POST', `/containers/${id}/wait`);
        assert.equal(JSON.parse(w.body).StatusCode, 3);
        att.socket.destroy();
      } finally {
        await removeForce(d, id);
      }
    });

    it('only forwards the streams asked for', async () => {
      const id = await create(d, { Image: 'busybox', Cmd: ['sh', '-c', 'echo o; echo e >&2'] });
      try {
        const att = await attachUpgrade(d, id, 'stream=1&stderr=1');
        assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
        const frames = parseFrames(await withTimeout(att.output, 10_000, 'attach stream end'));
        assert.ok(frames.every((f) => f.stream === 2), JSON.stringify(frames.map((f) => f.stream)));
        assert.equal(joined(frames, 2), 'e\n');
        att.socket.destroy();
      } finally {
        await removeForce(d, id);
      }
    });

    it('feeds stdin and closes it on half-close (StdinOnce)', async () => {
      const id = await create(d, { Image: 'busybox', Cmd: ['cat'], OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true });
      try {
        const att = await withTimeout(attachUpgrade(d, id, 'stream=1&stdin=1&stdout=1&stderr=1'), 5000, 'attach upgrade');
        assert.equal(att.res.statusCode, 101);
        // Like `docker run -i`: some stdin may arrive before start.
        att.socket.write('first\n');
        await sleep(50);
        assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
        att.socket.write('second\n');
        att.socket.end(); // half-close: stdin is done, output keeps coming
        const frames = parseFrames(await withTimeout(att.output, 10_000, 'cat to exit after stdin closed'));
        assert.equal(joined(frames, 1), 'first\nsecond\n');
        assert.equal(joined(frames, 2), '');
        const w = await api(d, 'POST', `/containers/${id}/wait`);
        assert.equal(JSON.parse(w.body).StatusCode, 0);
      } finally {
        await removeForce(d, id);
      }
    });
  });

  describe('images', () => {
    it('lists images with Id, RepoTags, Created and Size', async () => {
      const list = await getJSON(d, '/images/json');
      assert.equal(list.length, 1);
      const img = list[0];
      assert.match(img.Id, /^sha256:[0-9a-f]{64}$/);
      assert.deepEqual(img.RepoTags, ['busybox:latest']);
      assert.equal(typeof img.Created, 'number');
      assert.ok(Math.abs(img.Created - Date.now() / 1000) < 3600, `Created ${img.Created} is unix seconds`);
      assert.ok(img.Size > 100_000, `Size ${img.Size}`);
    });

    it('inspects by name, tag, full id and short id', async () => {
      const [img] = await getJSON(d, '/images/json');
      const hex = img.Id.slice(7);
      for (const ref of ['busybox', 'busybox:latest', img.Id, hex, hex.slice(0, 12), `sha256:${hex.slice(0, 12)}`]) {
        const i = await getJSON(d, `/images/${ref}/json`);
        assert.equal(i.Id, img.Id, ref);
        assert.deepEqual(i.RepoTags, ['busybox:latest'], ref);
        assert.equal(i.Os, 'linux');
        assert.equal(i.RootFS.Type, 'layers');
        assert.equal(i.RootFS.Layers.length, 1);
        assert.equal(i.Size, img.Size);
      }
    });

    it('tags, untags one tag, and refuses to delete an image a container uses', async () => {
      const [img] = await getJSON(d, '/images/json');
      const tag = await api(d, 'POST', `/images/busybox/tag?repo=${encodeURIComponent('example.com/team/bb')}&tag=v2`);
      assert.equal(tag.status, 201, tag.body);
      const tag2 = await api(d, 'POST', `/images/${img.Id.slice(7, 19)}/tag?repo=mine`);
      assert.equal(tag2.status, 201, tag2.body);
      const list = await getJSON(d, '/images/json');
      assert.equal(list.length, 1, 'tags do not make new images');
      assert.deepEqual([...list[0].RepoTags].sort(), ['busybox:latest', 'example.com/team/bb:v2', 'mine:latest']);
      assert.equal((await getJSON(d, '/images/example.com/team/bb:v2/json')).Id, img.Id);

      const untag = await api(d, 'DELETE', '/images/example.com/team/bb:v2');
      assert.equal(untag.status, 200, untag.body);
      assert.deepEqual(JSON.parse(untag.body), [{ Untagged: 'example.com/team/bb:v2' }]);
      const untag2 = await api(d, 'DELETE', '/images/mine');
      assert.deepEqual(JSON.parse(untag2.body), [{ Untagged: 'mine:latest' }]);
      assert.deepEqual((await getJSON(d, '/images/json'))[0].RepoTags, ['busybox:latest']);
      assert.equal((await api(d, 'GET', '/images/mine/json')).status, 404);

      const cid = await create(d, { Image: 'busybox', Cmd: ['true'] });
      try {
        for (const ref of [img.Id, img.Id.slice(7, 19)]) {
          const del = await api(d, 'DELETE', `/images/${ref}`);
          assert.equal(del.status, 409, `${ref}: ${del.body}`);
          assert.match(JSON.parse(del.body).message, new RegExp(cid.slice(0, 12)));
        }
        const byName = await api(d, 'DELETE', '/images/busybox');
        assert.equal(byName.status, 409, 'the last tag of an image in use needs force');
        assert.equal((await getJSON(d, '/images/json')).length, 1, 'image still there');
        assert.equal((await inspect(d, cid)).Image, img.Id);
      } finally {
        await removeForce(d, cid);
      }
    });

    it('answers 404 for an unknown image', async () => {
      for (const [method, p] of [['GET', '/images/nosuchimage/json'], ['DELETE', '/images/nosuchimage'], ['POST', '/images/nosuchimage/tag?repo=x'], ['GET', `/images/${'f'.repeat(12)}/json`]]) {
        const r = await api(d, method, p);
        assert.equal(r.status, 404, `${method} ${p}: ${r.body}`);
        assert.match(JSON.parse(r.body).message, /No such image/);
      }
    });
  });

  describe('disk usage', () => {
    it('reports layers, images with shared sizes, and containers with sizes (/system/df, ?size=1)', async () => {
      const id = await create(d, { Image: 'busybox', Cmd: ['sh', '-c', 'head -c 5000 /dev/zero > /five'] });
      try {
        assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
        assert.equal(JSON.parse((await api(d, 'POST', `/containers/${id}/wait`)).body).StatusCode, 0);
        const commit = await api(d, 'POST', `/commit?container=${id}&repo=df-child&tag=1`);
        assert.equal(commit.status, 201, commit.body);

        const df = await getJSON(d, '/system/df');
        assert.deepEqual(Object.keys(df).sort(), ['BuildCache', 'Containers', 'Images', 'LayersSize', 'Volumes']);
        const base = df.Images.find((i: any) => i.RepoTags.includes('busybox:latest'));
        const child = df.Images.find((i: any) => i.RepoTags.includes('df-child:1'));
        // The child's first layer is busybox's: shared by both, counted once.
        assert.equal(base.SharedSize, base.Size);
        assert.equal(child.SharedSize, base.Size);
        assert.ok(child.Size > base.Size + 5000, `child ${child.Size}, base ${base.Size}`);
        assert.equal(df.LayersSize, child.Size, 'two layers, stored once each');
        assert.ok(base.Containers >= 1);
        const c = df.Containers.find((x: any) => x.Id === id);
        assert.equal(c.SizeRw, 5000);
        assert.equal(c.SizeRootFs, base.Size + 5000);
        assert.deepEqual([df.Volumes, df.BuildCache], [[], []]);

        assert.deepEqual(Object.keys(await getJSON(d, '/system/df?type=container&type=volume')).sort(), ['Containers', 'Volumes']);
        const bad = await api(d, 'GET', '/system/df?type=nonsense');
        assert.equal(bad.status, 400, bad.body);
        assert.match(JSON.parse(bad.body).message, /nonsense/);

        const listed = (await getJSON(d, '/containers/json?all=1&size=1')).find((x: any) => x.Id === id);
        assert.deepEqual([listed.SizeRw, listed.SizeRootFs], [5000, base.Size + 5000]);
        assert.equal((await getJSON(d, '/containers/json?all=1')).find((x: any) => x.Id === id).SizeRw, undefined, 'sizes only when asked');
      } finally {
        await removeForce(d, id);
        await api(d, 'DELETE', '/images/df-child:1');
      }
    });
  });

  describe('image filters in time and by label', () => {
    it('prunes only what until and label!= leave, and lists by until (Go durations, dates, Unix seconds)', async () => {
      const d1 = await startDaemon();
      try {
        for (const [name, label] of [['keep:1', 'keep=yes'], ['gone:1', 'gone=yes']]) {
          const r = await docker(d1, 'import', '-c', `LABEL ${label}`, await busyboxTarFile(), name);
          assert.equal(r.code, 0, r.stderr);
        }
        const tags = async () => (await getJSON(d1, '/images/json')).flatMap((i: any) => i.RepoTags).sort();
        const q = (f: object) => encodeURIComponent(JSON.stringify(f));

        // reference= lists an image under its matching names only.
        for (const t of ['other/keep:2', 'localhost:5000/keep:3']) assert.equal((await docker(d1, 'tag', 'keep:1', t)).code, 0);
        const byRef = async (pat: string) => (await getJSON(d1, `/images/json?filters=${q({ reference: [pat] })}`)).map((i: any) => i.RepoTags);
        assert.deepEqual(await byRef('other/*'), [['other/keep:2']]);
        assert.deepEqual(await byRef('localhost:5000/keep'), [['localhost:5000/keep:3']]);
        assert.deepEqual((await byRef('*:1')).map((t: string[]) => t.join()).sort(), ['gone:1', 'keep:1']);
        assert.deepEqual(await byRef('nothing'), []);
        for (const t of ['other/keep:2', 'localhost:5000/keep:3']) assert.equal((await api(d1, 'DELETE', `/images/${t}`)).status, 200);
        const hourAgo = new Date(Date.now() - 3600e3).toISOString();
        const inAnHour = new Date(Date.now() + 3600e3).toISOString();

        // Both were made just now: nothing is older than an hour.
        for (const until of ['1h', '90m', hourAgo, String(Math.floor(Date.now() / 1000) - 3600)]) {
          assert.deepEqual(await getJSON(d1, `/images/json?filters=${q({ until: [until] })}`), [], until);
          const p = await api(d1, 'POST', `/images/prune?filters=${q({ dangling: ['false'], until: [until] })}`);
          assert.equal(p.status, 200, p.body);
          assert.deepEqual(JSON.parse(p.body), { ImagesDeleted: null, SpaceReclaimed: 0 }, until);
        }
        assert.deepEqual(await tags(), ['gone:1', 'keep:1']);
        assert.equal((await getJSON(d1, `/images/json?filters=${q({ until: [inAnHour] })}`)).length, 2);

        const p = await api(d1, 'POST', `/images/prune?filters=${q({ dangling: ['false'], until: [inAnHour], 'label!': ['keep'] })}`);
        assert.equal(p.status, 200, p.body);
        assert.deepEqual(JSON.parse(p.body).ImagesDeleted.filter((x: any) => x.Untagged), [{ Untagged: 'gone:1' }]);
        assert.deepEqual(await tags(), ['keep:1']);

        for (const path of ['/images/json', '/images/prune']) {
          const bad = await api(d1, path === '/images/prune' ? 'POST' : 'GET', `${path}?filters=${q({ until: ['last tuesday'] })}`);
          assert.equal(bad.status, 400, bad.body);
          assert.match(JSON.parse(bad.body).message, /until/);
        }
        assert.deepEqual(await tags(), ['keep:1']);
      } finally {
        await d1.stop();
      }
    });
  });

  describe('several daemons', () => {
    it('keeps images and containers apart', async () => {
      const [d1, d2] = await Promise.all([startDaemon(), startDaemon()]);
      try {
        assert.notEqual(d1.socket, d2.socket);
        await importBusybox(d1, 'only-in-one');
        const l1 = await getJSON(d1, '/images/json');
        assert.equal(l1.length, 1);
        assert.deepEqual(l1[0].RepoTags, ['only-in-one:latest']);
        assert.deepEqual(await getJSON(d2, '/images/json'), []);
        assert.equal((await getJSON(d2, '/info')).Images, 0);
        assert.equal((await api(d2, 'GET', '/images/only-in-one/json')).status, 404);
        const id = await create(d1, { Image: 'only-in-one', Cmd: ['true'] });
        assert.deepEqual(await getJSON(d2, '/containers/json?all=1'), []);
        assert.equal((await api(d2, 'GET', `/containers/${id}/json`)).status, 404);
        assert.notEqual((await getJSON(d1, '/info')).ID, (await getJSON(d2, '/info')).ID);
        // And the first test daemon saw none of it.
        assert.ok(!(await getJSON(d, '/images/json')).some((i: any) => i.RepoTags.includes('only-in-one:latest')));
      } finally {
        await Promise.all([d1.stop(), d2.stop()]);
      }
    });
  });
});
