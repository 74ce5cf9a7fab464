// The benchmark's own little network: one network namespace for the viewers (Chromium runs
// inside it) joined to the root namespace by a veth pair on a private /30. Nothing here
// touches the machine's loopback or any other interface; `destroy()` deletes the namespace,
// which deletes the veth pair and every qdisc on it.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NetLabOptions {
  /** Namespace for the viewers. */
  ns: string;
  /** Root-side and namespace-side veth names (≤ 15 characters). */
  hostIf: string;
  peerIf: string;
  /** Root-side address (the proxies listen here) and the viewers' address, both in one /30. */
  hostIp: string;
  peerIp: string;
  prefix: number;
}

export const DEFAULT_NET: NetLabOptions = {
  ns: 'nowcast-latbench',
  hostIf: 'nclat0',
  peerIf: 'nclat1',
  hostIp: '10.213.77.1',
  peerIp: '10.213.77.2',
  prefix: 30,
};

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tc(...args: string[]): string {
  return execFileSync('tc', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class NetLab {
  readonly o: NetLabOptions;
  private dir = '';
  private up = false;
  private shaped = false;

  constructor(o: NetLabOptions = DEFAULT_NET) {
    this.o = o;
  }

  /** Path of a wrapper that runs /usr/bin/chromium inside the namespace (playwright's executablePath). */
  get chromiumWrapper(): string {
    return join(this.dir, 'chromium-in-ns.sh');
  }

  /**
   * `nice`: the viewers' browsers run at this nice, their scheduler autogroup and every thread
   * (0: untouched). `normal`: the browsers start under SCHED_OTHER, for when the process that
   * launches them runs real-time (the server side under --server-rt).
   */
  create(chromium = '/usr/bin/chromium', nice = 0, normal = false): void {
    const o = this.o;
    this.cleanupLeftover();
    ip('netns', 'add', o.ns);
    this.up = true;
    ip('link', 'add', o.hostIf, 'type', 'veth', 'peer', 'name', o.peerIf);
    ip('link', 'set', o.peerIf, 'netns', o.ns);
    ip('addr', 'add', `${o.hostIp}/${o.prefix}`, 'dev', o.hostIf);
    // One MSS per skb toward the viewers, so the shaper meters real packets, not 64 KB GSO bursts.
    ip('link', 'set', 'dev', o.hostIf, 'gso_max_segs', '1');
    ip('link', 'set', o.hostIf, 'up');
    ip('-n', o.ns, 'addr', 'add', `${o.peerIp}/${o.prefix}`, 'dev', o.peerIf);
    ip('-n', o.ns, 'link', 'set', o.peerIf, 'up');
    ip('-n', o.ns, 'link', 'set', 'lo', 'up');
    this.dir = mkdtempSync(join(tmpdir(), 'nowcast-latbench-'));
    // playwright starts each browser in a session of its own, and with CONFIG_SCHED_AUTOGROUP
    // (on in Debian's kernels) every session is a scheduler group that gets an equal share
    // against the group holding the relay, ingest and encoder, whatever the nice of any thread
    // in it: so the group's own nice is set (/proc/self/autogroup, inherited by the exec'd
    // browser). Without autogroups the process nice counts, and then Chromium, as root, would
    // raise its compositor and media threads to nice -8: hence no CAP_SYS_NICE.
    const niced = nice ? `setpriv --bounding-set=-sys_nice --inh-caps=-sys_nice nice -n ${nice} ` : '';
    const group = nice ? `echo ${nice} > /proc/self/autogroup 2>/dev/null\n` : '';
    const other = normal ? 'chrt --other 0 ' : '';
    writeFileSync(this.chromiumWrapper, `#!/bin/sh\n${group}exec ${other}ip netns exec ${o.ns} ${niced}${chromium} "$@"\n`);
    chmodSync(this.chromiumWrapper, 0o755);
  }

  /**
   * Caps each viewer's downstream at `kbit` kbit/s: an HTB class per viewer, matched on the
   * proxy port the viewer's traffic leaves from. Other traffic (none in practice) is not shaped.
   */
  shape(ports: number[], kbit: number): void {
    const dev = this.o.hostIf;
    this.unshape();
    tc('qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '9999');
    this.shaped = true;
    const rate = `${Math.max(8, Math.round(kbit))}kbit`;
    ports.forEach((port, i) => {
      const cls = `1:${10 + i}`;
      // burst of 3 full packets: a keyframe is serialized at the link rate, as on a real bottleneck.
      tc('class', 'add', 'dev', dev, 'parent', '1:', 'classid', cls, 'htb', 'rate', rate, 'ceil', rate, 'burst', '4500', 'cburst', '4500');
      tc('filter', 'add', 'dev', dev, 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'sport', String(port), '0xffff', 'flowid', cls);
    });
  }

  unshape(): void {
    if (!this.shaped) return;
    this.shaped = false;
    try { tc('qdisc', 'del', 'dev', this.o.hostIf, 'root'); } catch { /* already gone */ }
  }

  /** Per-class counters while shaped (for the report: bytes, drops, overlimits). */
  shapeStats(): string {
    try { return tc('-s', 'class', 'show', 'dev', this.o.hostIf); } catch { return ''; }
  }

  /** Idempotent: deletes the namespace (and with it the veth pair and qdiscs) and the wrapper. */
  destroy(): void {
    if (this.up) {
      this.up = false;
      this.cleanupLeftover();
    }
    if (this.dir) {
      rmSync(this.dir, { recursive: true, force: true });
      this.dir = '';
    }
  }

  /** A previous run of this benchmark that was killed hard may have left its namespace behind. */
  private cleanupLeftover(): void {
    try { ip('netns', 'del', this.o.ns); } catch { /* not there */ }
    try { ip('link', 'del', this.o.hostIf); } catch { /* went with the namespace */ }
  }
}
