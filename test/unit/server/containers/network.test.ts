import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { networkSpecOf } from '../../../../src/server/containers/network';

describe('networkSpecOf', () => {
  test('the default is the bridge network, with ports, ranges and -P spread', () => {
    const w: string[] = [];
    const { spec, mode } = networkSpecOf({ PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '90-91/udp': [{ HostIp: '127.0.0.1', HostPort: '9090-9091' }], '100/tcp': [{}] }, PublishAllPorts: true }, {}, { '80/tcp': {}, '53/udp': {} }, w);
    assert.equal(mode, 'bridge');
    assert.equal(spec.mode, 'bridge');
    assert.deepEqual(spec.endpoints, [{ network: 'bridge', aliases: [] }]);
    assert.deepEqual(spec.ports, [
      { containerPort: 80, protocol: 'tcp', hostIP: '', hostPort: 8080 },
      { containerPort: 90, protocol: 'udp', hostIP: '127.0.0.1', hostPort: 9090 },
      { containerPort: 91, protocol: 'udp', hostIP: '127.0.0.1', hostPort: 9091 },
      { containerPort: 100, protocol: 'tcp', hostIP: '', hostPort: 0 },
      { containerPort: 53, protocol: 'udp', hostIP: '', hostPort: 0 },
    ]);
    assert.deepEqual(w, []);
  });

  test('a named network with its endpoint settings, another network, links, DNS and extra hosts', () => {
    const { spec } = networkSpecOf(
      { NetworkMode: 'app', Links: ['/db:/web/database', 'cache'], Dns: ['1.1.1.1'], DnsSearch: ['x'], DnsOptions: ['ndots:1'], ExtraHosts: ['gw:host-gateway', 'h=10.0.0.1'] },
      { MacAddress: '02:00:00:00:00:01', NetworkingConfig: { EndpointsConfig: { app: { Aliases: ['web'], IPAMConfig: { IPv4Address: '10.1.0.9' } }, other: { Aliases: ['o'] } } } },
      {},
      [],
    );
    assert.deepEqual(spec.endpoints, [
      { network: 'app', aliases: ['web'], ip: '10.1.0.9', mac: '02:00:00:00:00:01' },
      { network: 'other', aliases: ['o'] },
    ]);
    assert.deepEqual(spec.links, [{ container: 'db', alias: 'database' }, { container: 'cache', alias: 'cache' }]);
    assert.deepEqual(spec.extraHosts, [{ name: 'gw', ip: 'host-gateway' }, { name: 'h', ip: '10.0.0.1' }]);
    assert.deepEqual([spec.dns, spec.dnsSearch, spec.dnsOptions], [['1.1.1.1'], ['x'], ['ndots:1']]);
  });

  test('host and none drop published ports with a warning; links are refused there; sctp is refused', () => {
    const w: string[] = [];
    assert.equal(networkSpecOf({ NetworkMode: 'host', PortBindings: { '80/tcp': [{ HostPort: '80' }] } }, {}, {}, w).spec.mode, 'host');
    assert.deepEqual(w, ['Published ports are discarded when using host network mode']);
    assert.throws(() => networkSpecOf({ NetworkMode: 'none', Links: ['a'] }, {}, {}, []), /can't be used with links/);
    assert.throws(() => networkSpecOf({ PortBindings: { '80/sctp': [{}] } }, {}, {}, []), /protocol sctp is not supported/);
    assert.equal(networkSpecOf({}, { NetworkDisabled: true }, {}, []).spec.mode, 'none');
    assert.deepEqual(networkSpecOf({ NetworkMode: 'container:abc' }, {}, {}, []).spec, { mode: 'container', container: 'abc' });
  });
});
