import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VethWiring, vethName } from '../../../../src/engine/network/veth';
import type { Attachment } from '../../../../src/engine/network/types';
import { FakeHost } from '../../host/fake-host';

const a: Attachment = { network: 'n', iface: 'eth0', ip: '10.1.2.3', prefix: 24, gateway: '10.1.2.1', mac: '02:42:0a:01:02:03', aliases: [], endpointId: '', ports: [], hostVeth: 'veth1234abc' };

describe('VethWiring (the pool\'s own wiring)', () => {
  test('one nice\'d shell wires the namespace: what it is handed, in order', async () => {
    const host = new FakeHost();
    await new VethWiring(host).setup('/x/netns/pool-1', a, 'br0', 1400);
    const runs = host.callsOf('run');
    assert.equal(runs.length, 1);
    const [cmd, args] = runs[0].args as [string, string[]];
    assert.equal(cmd, '/usr/bin/nice');
    assert.deepEqual(args.slice(0, 4), ['-n', '10', '/bin/sh', '-c']);
    assert.deepEqual(args.slice(5, 12), ['sh', '/x/netns/pool-1', 'veth1234abc', 'br0', '02:42:0a:01:02:03', '10.1.2.3/24', '10.1.2.1']);
    assert.equal(args[13], '1400');
    const script = args[4];
    // The namespace is made first, the route last.
    assert.ok(script.indexOf('unshare --net="$1"') < script.indexOf('ip link add'));
    assert.match(script, /ip route add default via "\$3" dev eth0 proto static metric 100'/);
    assert.match(script, /ipv6\/conf\/eth0\/autoconf/);
  });

  test('a failed setup says why; a teardown deletes the host end, and one already gone is no error', async () => {
    const host = new FakeHost();
    const v = new VethWiring(host);
    host.onRun = () => ({ code: 2, stdout: '', stderr: 'RTNETLINK answers: File exists\n' });
    await assert.rejects(v.setup('/x/n', a, 'br0'), /veth setup: RTNETLINK answers: File exists/);
    host.reset();
    host.onRun = () => ({ code: 1, stdout: '', stderr: 'Cannot find device "veth1234abc"\n' });
    await v.teardown(a);
    assert.deepEqual(host.callsOf('run')[0].args.slice(0, 2), ['/usr/sbin/ip', ['link', 'del', 'veth1234abc']]);
    host.onRun = () => ({ code: 2, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted\n' });
    await assert.rejects(v.teardown(a, { background: true }), /veth teardown: RTNETLINK answers: Operation not permitted/);
    assert.equal(host.callsOf('run').at(-1)!.args[0], '/usr/bin/nice');
  });

  test('host names of docker\'s form, within IFNAMSIZ', () => {
    for (let i = 0; i < 50; i++) assert.match(vethName(), /^veth[0-9a-f]{7}$/);
  });
});
