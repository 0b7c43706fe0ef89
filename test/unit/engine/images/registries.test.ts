import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowsNondistributable, isInsecure, pullEndpoints } from '../../../../src/engine/images/registries';
import { registryConfig, warnings } from '../../../../src/server/routes/system';

const base = { insecure: [] as string[], certsDir: '/nonexistent', userAgent: 't' };

test('isInsecure: loopback always; names, host:port and CIDRs from insecure-registries', () => {
  assert.ok(isInsecure('127.0.0.1:5000', base));
  assert.ok(isInsecure('localhost:5000', base));
  assert.ok(isInsecure('[::1]:5000', base));
  assert.ok(!isInsecure('10.1.2.3:5000', base));
  const s = { ...base, insecure: ['10.0.0.0/8', 'reg.local:5000', 'plain'] };
  assert.ok(isInsecure('10.1.2.3:5000', s));
  assert.ok(!isInsecure('11.1.2.3:5000', s));
  assert.ok(isInsecure('reg.local:5000', s));
  assert.ok(!isInsecure('reg.local:5001', s));
  assert.ok(isInsecure('plain:443', s));
});

test('allowsNondistributable: only what allow-nondistributable-artifacts names', () => {
  assert.ok(!allowsNondistributable('127.0.0.1:5000', base));
  const s = { ...base, allowNondistributable: ['127.0.0.0/8', 'r.example:5000'] };
  assert.ok(allowsNondistributable('127.0.0.1:5000', s));
  assert.ok(allowsNondistributable('r.example:5000', s));
  assert.ok(!allowsNondistributable('r.example:5001', s));
});

test('pullEndpoints: Docker Hub goes through each mirror in order, then the Hub; other registries are their own', () => {
  const s = { ...base, mirrors: ['http://127.0.0.1:5001/', 'https://mirror.example/'] };
  const hub = pullEndpoints('docker.io', s);
  assert.deepEqual(hub.map((e) => [e.label, e.mirror, e.client.host]), [
    ['mirror http://127.0.0.1:5001/', true, '127.0.0.1:5001'],
    ['mirror https://mirror.example/', true, 'mirror.example'],
    ['Docker Hub (registry-1.docker.io)', false, 'registry-1.docker.io'],
  ]);
  const other = pullEndpoints('127.0.0.1:5000', s);
  assert.deepEqual(other.map((e) => [e.mirror, e.client.host]), [[false, '127.0.0.1:5000']]);
  for (const e of [...hub, ...other]) e.client.close();
});

test('registryConfig: docker.io with its mirrors, insecure names and CIDRs, 127.0.0.0/8 once', () => {
  const rc = registryConfig({ insecureRegistries: ['10.0.0.0/8', 'reg.local:5000', '127.0.0.0/8'], registryMirrors: ['http://127.0.0.1:5001/'], allowNondistributable: ['r:5000', '192.168.0.0/16'] });
  assert.deepEqual(rc, {
    AllowNondistributableArtifactsCIDRs: ['192.168.0.0/16'],
    AllowNondistributableArtifactsHostnames: ['r:5000'],
    InsecureRegistryCIDRs: ['127.0.0.0/8', '10.0.0.0/8'],
    IndexConfigs: {
      'docker.io': { Name: 'docker.io', Mirrors: ['http://127.0.0.1:5001/'], Secure: true, Official: true },
      'reg.local:5000': { Name: 'reg.local:5000', Mirrors: [], Secure: false, Official: false },
    },
    Mirrors: ['http://127.0.0.1:5001/'],
  });
});

test('warnings: dockerd\'s, for what the host cannot limit or forward', () => {
  const full = { version: 1 as const, memory: true, swap: true, swappiness: true, memoryReservation: true, oomKillDisable: true, pids: true, cpuShares: true, cpuCfs: true, cpuset: true, blkioWeight: true, blkioWeightDevice: true, blkioThrottle: true };
  assert.deepEqual(warnings({ cg: full, ipForward: true, nf: ['1', '1'] }), []);
  assert.deepEqual(warnings({ cg: full, ipForward: true, nf: ['', ''] }), [], 'no br_netfilter: nothing to warn about');
  assert.deepEqual(warnings({ cg: { ...full, swap: false }, ipForward: false, nf: ['0', '1'] }), ['WARNING: No swap limit support', 'WARNING: IPv4 forwarding is disabled', 'WARNING: bridge-nf-call-iptables is disabled']);
});
