import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNetDev } from '../../../../src/engine/stats/netdev';

test('parseNetDev reads each interface but loopback', () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    1492      12    1    2    0     0          0         0      656       8    3    4    0     0       0          0
`;
  assert.deepEqual(parseNetDev(text), { eth0: { rxBytes: 1492, rxPackets: 12, rxErrors: 1, rxDropped: 2, txBytes: 656, txPackets: 8, txErrors: 3, txDropped: 4 } });
});
