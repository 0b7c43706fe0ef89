import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allocate, formatCidr, hostRoutes, intToIp, ipToInt, overlaps, parseCidr, pickSubnet } from '../../../../src/engine/network/ipam';

describe('ipam', () => {
  test('parses CIDRs, keeping the address a bip names', () => {
    const c = parseCidr('172.18.0.1/16');
    assert.equal(formatCidr(c), '172.18.0.0/16');
    assert.equal(intToIp(c.ip), '172.18.0.1');
    assert.throws(() => parseCidr('172.18.0.0'), /invalid subnet/);
    assert.throws(() => parseCidr('300.1.1.1/8'), /invalid IPv4 address/);
    assert.throws(() => parseCidr('1.2.3.4/33'), /invalid subnet/);
  });

  test('allocates the lowest free address, never the network or broadcast address, within the range', () => {
    const s = parseCidr('10.0.0.0/30');
    assert.equal(intToIp(allocate(s, undefined, new Set([ipToInt('10.0.0.1')]))!), '10.0.0.2');
    assert.equal(allocate(s, undefined, new Set([ipToInt('10.0.0.1'), ipToInt('10.0.0.2')])), undefined);
    const big = parseCidr('10.0.0.0/24');
    assert.equal(intToIp(allocate(big, parseCidr('10.0.0.128/25'), new Set())!), '10.0.0.128');
  });

  test('picks the first pool subnet that overlaps no route or network', () => {
    const taken = [parseCidr('172.17.0.0/16'), parseCidr('172.18.5.0/24')];
    assert.equal(formatCidr(pickSubnet([{ base: '172.17.0.0/16', size: 16 }, { base: '172.18.0.0/16', size: 24 }], taken)!), '172.18.0.0/24');
    assert.equal(formatCidr(pickSubnet([{ base: '172.18.0.0/16', size: 24 }], [parseCidr('172.18.0.0/23')])!), '172.18.2.0/24');
    assert.equal(pickSubnet([{ base: '10.0.0.0/24', size: 24 }], [parseCidr('10.0.0.0/8')]), undefined);
    assert.ok(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.1.2.0/24')));
    assert.ok(!overlaps(parseCidr('10.0.0.0/24'), parseCidr('10.0.1.0/24')));
  });

  test('reads /proc/net/route, skipping the default route', () => {
    const text = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
      'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' +
      'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n';
    assert.deepEqual(hostRoutes(text).map(formatCidr), ['192.0.2.0/24']);
  });
});
