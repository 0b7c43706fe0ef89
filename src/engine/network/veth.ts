// The pool's wiring (service.ts): a namespace with a veth pair on a bridge
// whose rules are already there (the network's anchor holds them), done
// with iproute2 instead of netavark. For a plain container on the default
// bridge netavark does nothing more than this (no port, no DNS record, no
// per-container rule), but it costs ~25 iptables runs, most of them -C
// checks of the network's own chains (docs/BENCHMARKS.md): 50–65 ms of CPU
// per container idle, 150–450 ms under load, against ~10 ms here. The
// result is the same as netavark's (address, MAC, route `proto static
// metric 100`, IPv6 autoconf off on eth0); the teardown is deleting the
// host end (the pair goes with it), with no iptables at all.
import * as os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Host } from '../../host';
import { BACKGROUND_NICE } from './netavark';
import type { Attachment } from './types';

const NICE = '/usr/bin/nice';
const SH = '/bin/sh';
const IP = '/usr/sbin/ip';
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

// One process from the daemon (a spawn blocks its event loop for a few
// ms); the shell runs the rest. $1 netns file, $2 host veth, $3 bridge,
// $4 MAC, $5 address/prefix, $6 gateway, $7 queues, $8 MTU ('' = the
// default).
const SCRIPT = `set -e
unshare --net="$1" true
mtu=; if [ -n "$8" ]; then mtu="mtu $8"; fi
ip link add "$2" numtxqueues "$7" numrxqueues "$7" $mtu type veth peer name eth0 numtxqueues "$7" numrxqueues "$7" $mtu netns "$1"
ip link set "$2" master "$3" up
exec nsenter --net="$1" sh -c 'set -e
echo 0 > /proc/sys/net/ipv6/conf/eth0/autoconf
ip link set lo up
ip link set eth0 address "$1"
ip addr add "$2" brd + dev eth0
ip link set eth0 up
ip route add default via "$3" dev eth0 proto static metric 100' sh "$4" "$5" "$6"`;

// A host interface name of docker's form (veth + 7 hex).
export function vethName(): string {
  return `veth${randomBytes(4).toString('hex').slice(0, 7)}`;
}

export class VethWiring {
  constructor(private host: Host) {}

  // Makes the namespace pinned at `netns` and wires eth0 in it as `a`
  // says, its host end `a.hostVeth` on `bridge`. Runs at the background
  // priority: only the pool calls it.
  async setup(netns: string, a: Attachment, bridge: string, mtu?: number): Promise<void> {
    const args = [SH, '-c', SCRIPT, 'sh', netns, a.hostVeth!, bridge, a.mac, `${a.ip}/${a.prefix}`, a.gateway, String(Math.max(1, os.availableParallelism())), mtu ? String(mtu) : ''];
    const r = await this.host.run(NICE, ['-n', String(BACKGROUND_NICE), ...args], { env: ENV, timeoutMs: 60000 });
    if (r.code !== 0) throw new Error(`veth setup: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  // Deletes the pair by its host end; one already gone is no error.
  async teardown(a: Attachment, o: { background?: boolean } = {}): Promise<void> {
    const args = ['link', 'del', a.hostVeth!];
    const r = o.background ? await this.host.run(NICE, ['-n', String(BACKGROUND_NICE), IP, ...args], { env: ENV, timeoutMs: 60000 }) : await this.host.run(IP, args, { env: ENV, timeoutMs: 30000 });
    if (r.code !== 0 && !/Cannot find device|does not exist/i.test(r.stderr)) throw new Error(`veth teardown: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
}
