// --network, --add-host, --link, --dns* and address parsing against the
// docker CLI's results and errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipString, parseCIDR, parseIP, validateIPAddress, validMAC } from '../../../../src/cli/opts/ip';
import { networkEndpoints, parseNetworkOpt, validateDNSSearch, validateExtraHost, validateLink } from '../../../../src/cli/opts/network';
import { naturalLess } from '../../../../src/cli/output/natural';

const flags = (over: Partial<Parameters<typeof networkEndpoints>[0]>) => networkEndpoints({ networks: [], aliases: [], links: [], ipv4: '', ipv6: '', mac: '', linkLocalIPs: [], ...over });

describe('network flags', () => {
  it('reads --network\'s long syntax (lowercased, as docker)', () => {
    const n = parseNetworkOpt('name=Front,alias=Web,ip=10.1.0.5,driver-opt=com.x=Y,gw-priority=5');
    assert.deepEqual([n.target, n.aliases, n.ipv4, n.driverOpts, n.gwPriority], ['front', ['web'], '10.1.0.5', { 'com.x': 'y' }, 5]);
    assert.equal(parseNetworkOpt('my-net').target, 'my-net');
    assert.throws(() => parseNetworkOpt('name=x,bogus=y'), { message: 'invalid field key bogus' });
    assert.throws(() => parseNetworkOpt('alias=x'), { message: 'network name/id is not specified' });
  });

  it('makes endpoints as docker\'s parseNetworkOpts', () => {
    assert.deepEqual(flags({}), { mode: 'default', endpoints: { default: {} } });
    assert.deepEqual(flags({ networks: ['host'] }), { mode: 'host', endpoints: {} });
    assert.deepEqual(flags({ networks: ['n'], aliases: ['a'], links: ['db:d'], ipv4: '10.0.0.2', mac: '02:42:ac:11:00:02' }), {
      mode: 'n',
      endpoints: { n: { IPAMConfig: { IPv4Address: '10.0.0.2' }, Links: ['db:d'], Aliases: ['a'], MacAddress: '02:42:ac:11:00:02' } },
    });
    // A link on the default bridge is a legacy link (HostConfig.Links), not the endpoint's.
    assert.deepEqual(flags({ links: ['db'] }).endpoints, { default: {} });
    assert.throws(() => flags({ aliases: ['x'] }), { message: 'network-scoped aliases are only supported for user-defined networks' });
    assert.throws(() => flags({ networks: ['a', 'host'] }), { message: 'conflicting options: cannot attach both user-defined and non-user-defined network-modes' });
    assert.throws(() => flags({ networks: ['name=n,alias=a'], aliases: ['b'] }), { message: 'conflicting options: cannot specify both --network-alias and per-network alias' });
    assert.throws(() => flags({ networks: ['n'], mac: 'zz' }), { message: 'zz is not a valid mac address' });
  });

  it('checks --add-host, --link and --dns-search values', () => {
    assert.equal(validateExtraHost('a:1.2.3.4'), 'a:1.2.3.4');
    assert.equal(validateExtraHost('b=::1'), 'b:::1');
    assert.equal(validateExtraHost('c:[fe80::1]'), 'c:fe80::1');
    assert.equal(validateExtraHost('gw:host-gateway'), 'gw:host-gateway');
    assert.equal(validateExtraHost('d=0:0::1'), 'd:0:0::1');
    assert.throws(() => validateExtraHost('nohost'), { message: 'bad format for add-host: "nohost"' });
    assert.throws(() => validateExtraHost('h:notanip'), { message: 'invalid IP address in add-host: "notanip"' });
    assert.equal(validateLink('db:alias'), 'db:alias');
    assert.throws(() => validateLink('a:b:c'), { message: 'bad format for links: a:b:c' });
    assert.equal(validateDNSSearch('example.com.'), 'example.com');
    assert.equal(validateDNSSearch('.'), '.');
    assert.throws(() => validateDNSSearch('-bad-'), { message: '-bad- is not a valid domain' });
  });

  it('reads addresses as Go\'s net package', () => {
    assert.equal(validateIPAddress(' 0:0:0:0:0:0:0:1 '), '::1');
    assert.equal(validateIPAddress('2001:DB8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(validateIPAddress('::ffff:10.0.0.1'), '10.0.0.1');
    assert.throws(() => validateIPAddress('010.0.0.1'), { message: 'IP address is not correctly formatted: 010.0.0.1' });
    assert.equal(parseIP('fe80::1%eth0'), undefined);
    assert.equal(ipString(parseCIDR('10.1.2.3/16').ip), '10.1.2.3');
    assert.throws(() => parseCIDR('10.0.0.0/33'), { message: 'invalid CIDR address: 10.0.0.0/33' });
    assert.ok(validMAC('02:42:ac:11:00:02') && validMAC('02-42-ac-11-00-02') && validMAC('0242.ac11.0002'));
    assert.ok(!validMAC('02:42:ac:11:00') && !validMAC('zz:42:ac:11:00:02'));
  });

  it('sorts naturally as fvbommel/sortorder', () => {
    const names = ['net10', 'net9', 'a', 'net09', 'B', 'net9a'];
    assert.deepEqual([...names].sort((x, y) => (naturalLess(x, y) ? -1 : naturalLess(y, x) ? 1 : 0)), ['B', 'a', 'net9', 'net9a', 'net09', 'net10']);
  });
});
