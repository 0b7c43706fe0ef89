// An --internal network has no way out, the host included. netavark 1.4
// gives such a network no default route, no NAT and no forwarding on its
// bridge, but the bridge keeps the gateway address (aardvark-dns answers
// there), so whatever the host serves on 0.0.0.0 (or ::, through the
// bridge's IPv6 link-local address) was reachable from its containers.
// netavark has no option for that (newer ones neither), so berth adds one
// chain per internal network to the host's INPUT, made with the network's
// anchor (the bridge's lifetime) and removed with it:
//
//   -A INPUT -i <bridge> -j BERTH-IN-<id[:12]>
//   BERTH-IN-…: replies (of connections the host made) and DNS to the
//   gateway return to INPUT's own rules; everything else is dropped.
//
// and turns IPv6 off on the bridge (berth's networks are IPv4 only). The
// rules are made in one iptables-restore transaction, under netavark's lock.
import * as fs from 'node:fs';
import type { Host } from '../../host';
import { LOCK } from './netavark';
import type { NetworkRecord } from './types';

const FLOCK = '/usr/bin/flock';
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

export function guardChain(n: NetworkRecord): string {
  return `BERTH-IN-${n.id.slice(0, 12)}`;
}

export class InternalGuard {
  constructor(private host: Host) {}

  private run(args: string[], input?: string) {
    return this.host.run(FLOCK, ['-o', LOCK, ...args], { env: ENV, timeoutMs: 30000, ...(input !== undefined ? { input } : {}) });
  }

  async install(n: NetworkRecord): Promise<void> {
    const chain = guardChain(n);
    const rules = [
      '*filter',
      `:${chain} - [0:0]`, // made, or emptied when it exists
      `-A ${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
      `-A ${chain} -d ${n.gateway}/32 -p udp -m udp --dport 53 -j RETURN`,
      `-A ${chain} -d ${n.gateway}/32 -p tcp -m tcp --dport 53 -j RETURN`,
      `-A ${chain} -j DROP`,
      'COMMIT',
      '',
    ].join('\n');
    const r = await this.run(['iptables-restore', '-w', '--noflush'], rules);
    if (r.code !== 0) throw new Error(`iptables-restore: ${r.stderr.trim()}`);
    const jump = ['INPUT', '-i', n.bridge!, '-j', chain];
    if ((await this.run(['iptables', '-w', '-C', ...jump])).code !== 0) {
      const i = await this.run(['iptables', '-w', '-I', ...jump]);
      if (i.code !== 0) throw new Error(`iptables -I INPUT: ${i.stderr.trim()}`);
    }
    try {
      fs.writeFileSync(`/proc/sys/net/ipv6/conf/${n.bridge}/disable_ipv6`, '1');
    } catch {
      // no IPv6 on this host
    }
  }

  // Whatever of it exists.
  async remove(n: NetworkRecord): Promise<void> {
    const chain = guardChain(n);
    for (let i = 0; i < 8; i++) {
      if ((await this.run(['iptables', '-w', '-D', 'INPUT', '-i', n.bridge!, '-j', chain])).code !== 0) break;
    }
    await this.run(['iptables', '-w', '-F', chain]);
    await this.run(['iptables', '-w', '-X', chain]);
  }

  // netavark 1.4 removes the host's `-A FORWARD -j NETAVARK_ISOLATION_1`
  // with the complete teardown of any isolated network (the rule's policy
  // is OnComplete), in this daemon or any other on the host, though every
  // other network still needs it, until the next setup of any container
  // puts it back. So each daemon keeps a jump of its own, which netavark's
  // exact-match removal leaves alone (a comment naming the daemon's default
  // bridge); netavark never removes the isolation chains themselves.
  private isolationJump(tag: string): string[] {
    return ['FORWARD', '-m', 'comment', '--comment', `berth isolation ${tag}`, '-j', 'NETAVARK_ISOLATION_1'];
  }

  async keepIsolation(tag: string): Promise<void> {
    if ((await this.run(['iptables', '-w', '-n', '-L', 'NETAVARK_ISOLATION_1'])).code !== 0) return;
    const jump = this.isolationJump(tag);
    if ((await this.run(['iptables', '-w', '-C', ...jump])).code === 0) return;
    const r = await this.run(['iptables', '-w', '-I', jump[0]!, '1', ...jump.slice(1)]);
    if (r.code !== 0) throw new Error(`iptables -I FORWARD: ${r.stderr.trim()}`);
  }

  // Every daemon's jump whose bridge is gone (this one's, after its
  // networks were torn down; a killed daemon's): a cleanup may run with
  // another config than the daemon had.
  async dropIsolation(): Promise<void> {
    const save = await this.host.run('iptables-save', ['-t', 'filter'], { env: ENV, timeoutMs: 30000 });
    const tags = [...save.stdout.matchAll(/^-A FORWARD -m comment --comment "berth isolation (\S+)" -j NETAVARK_ISOLATION_1$/gm)].map((m) => m[1]!);
    for (const tag of new Set(tags)) {
      if (fs.existsSync(`/sys/class/net/${tag}`)) continue;
      for (let i = 0; i < 8; i++) if ((await this.run(['iptables', '-w', '-D', ...this.isolationJump(tag)])).code !== 0) break;
    }
  }
}
