// -p/--expose parsing against go-connections/nat's results and errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePortRange, parsePorts, parsePortSpec, splitProtoPort, standardNotation } from '../../../../src/cli/opts/ports';

describe('port specs (nat.ParsePortSpec)', () => {
  it('splits IP, host port and container port', () => {
    assert.deepEqual(parsePortSpec('80'), [{ port: '80/tcp', binding: { HostIp: '', HostPort: '' } }]);
    assert.deepEqual(parsePortSpec('8080:80/udp'), [{ port: '80/udp', binding: { HostIp: '', HostPort: '8080' } }]);
    assert.deepEqual(parsePortSpec('127.0.0.1::80'), [{ port: '80/tcp', binding: { HostIp: '127.0.0.1', HostPort: '' } }]);
    assert.deepEqual(parsePortSpec('[::1]:53:53/UDP'), [{ port: '53/udp', binding: { HostIp: '::1', HostPort: '53' } }]);
    assert.deepEqual(parsePortSpec('::1:6000:60'), [{ port: '60/tcp', binding: { HostIp: '::1', HostPort: '6000' } }]);
  });

  it('expands ranges, and keeps a host range for one container port', () => {
    assert.deepEqual(parsePortSpec('7000-7001:8000-8001').map((m) => [m.port, m.binding.HostPort]), [['8000/tcp', '7000'], ['8001/tcp', '7001']]);
    assert.deepEqual(parsePortSpec('5000-5010:22'), [{ port: '22/tcp', binding: { HostIp: '', HostPort: '5000-5010' } }]);
    assert.deepEqual(parsePortSpec('90-91').map((m) => m.port), ['90/tcp', '91/tcp']);
  });

  it('fails with docker\'s messages', () => {
    assert.throws(() => parsePortSpec('8080:abc'), { message: 'invalid containerPort: abc' });
    assert.throws(() => parsePortSpec('abc:80'), { message: 'invalid hostPort: abc' });
    assert.throws(() => parsePortSpec('1.2.3:80:80'), { message: 'invalid IP address: 1.2.3' });
    assert.throws(() => parsePortSpec('80/xyz'), { message: 'invalid proto: xyz' });
    assert.throws(() => parsePortSpec('8000-8001:80-82'), { message: 'invalid ranges specified for container and host Ports: 80-82 and 8000-8001' });
    assert.throws(() => parsePortSpec('8080:'), { message: 'no port specified: 8080:<empty>' });
    assert.throws(() => parsePortRange('9-3'), { message: 'invalid range specified for port: 9-3' });
    assert.throws(() => parsePortRange('70000'), { message: 'strconv.ParseUint: parsing "70000": value out of range' });
  });

  it('reads the long syntax and splits protocols', () => {
    assert.equal(standardNotation('target=80,published=8080,protocol=udp'), '8080:80/udp');
    assert.equal(standardNotation('target=81'), ':81/tcp');
    assert.throws(() => standardNotation('target=80,bogus'), { message: "invalid publish opts format (should be name=value but got 'bogus')" });
    assert.deepEqual(splitProtoPort('53/'), ['tcp', '53']);
    assert.deepEqual(splitProtoPort('/udp'), ['', '']);
  });

  it('merges -p and --expose into ExposedPorts and PortBindings', () => {
    const p = parsePorts(['8080:80', '80', '127.0.0.1:9000:90/udp'], ['80', '100-101/udp']);
    assert.deepEqual(Object.keys(p.exposed), ['80/tcp', '90/udp', '100/udp', '101/udp']);
    assert.deepEqual(p.bindings['80/tcp'], [{ HostIp: '', HostPort: '8080' }, { HostIp: '', HostPort: '' }]);
    assert.throws(() => parsePorts([], ['1:2']), { message: 'invalid port format for --expose: 1:2' });
  });
});
