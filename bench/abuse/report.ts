// The abuse bench's results as Markdown: the targets of issue 20 next to what was measured,
// how every attacker connection ended, and the server's own protocol error counters.
import { pct, type Tallies } from './lib.js';
import type { ViewerStats } from './viewers.js';
import type { ProbeReply } from './probe.js';
import type { AttackersReport } from './attackers.js';
import { NODE_FLAGS } from '../../app/node-flags.js';

/** The server's V8 heap by its own metrics (MB); `spaces`: committed size per heap space. */
export interface HeapFigures { totalMb: number; usedMb: number; externalMb: number; spaces?: Record<string, number> }

export interface Outcome {
  date: string;
  machine: string;
  commit: string;
  command: string;
  seconds: number;
  viewers: ViewerStats[];
  rss: { baselineMb: number; maxMb: number; maxAtS: number; endMb: number };
  /** RSS every 5 s from the attack's start (s, MB). */
  rssSeries: Array<{ t: number; mb: number }>;
  /** The server's V8 heap and external memory before the attack and 5 s after it. */
  heapBefore: HeapFigures | null;
  heapAfter: HeapFigures | null;
  /** After the attack and a full GC (inspector): what the server kept. */
  afterGc?: { rssMb: number; heap: HeapFigures | null } | null;
  probe: ProbeReply['phases'];
  /** The same probe against a do-nothing /livez server (control.ts): what the machine adds. */
  control?: ProbeReply['phases'];
  crashes: Array<{ code: number | null; signal: string | null; atS: number }>;
  attackers: AttackersReport | null;
  protocolErrors: Array<{ protocol: string; code: string; value: number }>;
  qoeStallsHealthy: number;
  badViewerMessages: number;
  log: { lines: number; bytes: number; longest: number };
  /** How the load generators ran: `SCHED_IDLE` or `nice -n N`. */
  load: string;
  /** How /livez was timed: on a plain socket (raw) or through node:http's client. */
  probeClient?: string;
  /** SCHED_FIFO priority of the probes' threads; 0: normal priority. */
  probeRt?: number;
}

const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');
const mark = (ok: boolean): string => (ok ? 'met' : '**missed**');

export function summary(o: Outcome): { rows: string[][]; met: Record<string, boolean> } {
  const v = o.viewers;
  const chunks = v.reduce((a, s) => a + s.chunks, 0);
  const missed = v.reduce((a, s) => a + s.missed, 0);
  const newInits = v.reduce((a, s) => a + Math.max(0, s.inits - 1), 0);
  const closed = v.filter((s) => s.closed).length;
  const attack = o.probe.attack ?? { lat: [], failed: 0 };
  const idle = o.probe.idle ?? { lat: [], failed: 0 };
  const cAttack = o.control?.attack ?? { lat: [], failed: 0 };
  const cIdle = o.control?.idle ?? { lat: [], failed: 0 };
  const growth = o.rss.maxMb - o.rss.baselineMb;
  const met = {
    missed: missed === 0 && closed === 0 && newInits === 0,
    rss: growth <= 32,
    livez: pct(attack.lat, 99) <= 5 && attack.failed === 0,
    crashes: o.crashes.length === 0,
  };
  const rows = [
    ['healthy chunks received / missed', `${chunks} / ${missed} (${v.length} viewers; least ${Math.min(...v.map((s) => s.chunks))} each; out of order ${v.reduce((a, s) => a + s.outOfOrder, 0)}; skipped ${v.reduce((a, s) => a + s.skipped, 0)})`, '0 missed', mark(met.missed)],
    ['healthy viewers closed', String(closed), '0', mark(closed === 0)],
    ['new init segments on healthy (hijack or restart)', `${newInits} (generations seen: ${[...new Set(v.flatMap((s) => s.generations))].join(', ')})`, '0', mark(newInits === 0)],
    ['longest gap between two healthy chunks', `${ms(Math.max(...v.map((s) => s.maxIntervalMs)))} ms`, '–', ''],
    ['relay RSS baseline / max / growth', `${o.rss.baselineMb.toFixed(1)} / ${o.rss.maxMb.toFixed(1)} MB (at ${o.rss.maxAtS} s) / **${growth.toFixed(1)} MB** (end ${o.rss.endMb.toFixed(1)})`, '≤ 32 MB growth', mark(met.rss)],
    ...(o.afterGc ? [['relay RSS after the attack and a full GC / growth kept', `${o.afterGc.rssMb.toFixed(1)} MB / ${(o.afterGc.rssMb - o.rss.baselineMb).toFixed(1)} MB (V8 heap used ${o.afterGc.heap?.usedMb.toFixed(1) ?? '?'} MB, ${o.heapBefore?.usedMb.toFixed(1) ?? '?'} before the attack)`, '–', '']] : []),
    ['public /livez before the attack p50 / p99 / max', `${ms(pct(idle.lat, 50))} / ${ms(pct(idle.lat, 99))} / ${ms(pct(idle.lat, 100))} ms (${idle.lat.length} probes)`, '–', ''],
    ['public /livez during the attack p50 / p99 / max', `${ms(pct(attack.lat, 50))} / **${ms(pct(attack.lat, 99))}** / ${ms(pct(attack.lat, 100))} ms (${attack.lat.length} probes, ${attack.failed} failed)`, 'p99 ≤ 5 ms', mark(met.livez)],
    ...(o.control ? [
      ['control /livez (a do-nothing uWS server) before the attack p50 / p99 / max', `${ms(pct(cIdle.lat, 50))} / ${ms(pct(cIdle.lat, 99))} / ${ms(pct(cIdle.lat, 100))} ms (${cIdle.lat.length} probes)`, '–', ''],
      ['control /livez during the attack p50 / p99 / max', `${ms(pct(cAttack.lat, 50))} / ${ms(pct(cAttack.lat, 99))} / ${ms(pct(cAttack.lat, 100))} ms (${cAttack.lat.length} probes, ${cAttack.failed} failed)`, '–', ''],
    ] : []),
    ['crashes (server process exited)', o.crashes.length ? o.crashes.map((c) => `exit ${c.code ?? c.signal} at ${c.atS} s`).join('; ') : '0', '0', mark(met.crashes)],
  ];
  return { rows, met };
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`)].join('\n');
}

function attackerRows(t: Tallies): string[][] {
  return Object.entries(t).map(([kind, k]) => [kind, String(k.made),
    Object.entries(k.endings).sort((a, b) => b[1] - a[1]).map(([e, n]) => `${n} × ${e}`).join('; ')]);
}

const heapText = (h: Outcome['heapBefore']): string => (h ? `${h.totalMb.toFixed(1)} / ${h.usedMb.toFixed(1)} / ${h.externalMb.toFixed(1)}` : '–');
/** The spaces whose committed size changed by 0.5 MB or more, before → after. */
function spaceText(a: Outcome['heapBefore'], b: Outcome['heapBefore']): string {
  if (!a?.spaces || !b?.spaces) return '';
  const moved = Object.keys(b.spaces).filter((k) => Math.abs((b.spaces![k] ?? 0) - (a.spaces![k] ?? 0)) >= 0.5);
  if (moved.length === 0) return '';
  return ` Heap spaces that changed (committed MB): ${moved.map((k) => `${k} ${(a.spaces![k] ?? 0).toFixed(1)} → ${b.spaces![k]!.toFixed(1)}`).join(', ')}.`;
}

export function markdown(o: Outcome): string {
  const { rows } = summary(o);
  const a = o.attackers;
  const parts = [
    `Date: ${o.date}. Machine: ${o.machine}. Commit: ${o.commit}.`,
    `Command: \`${o.command}\``,
    '',
    `The server runs as its own process (\`node ${NODE_FLAGS.join(' ')} --import tsx app/main.ts\`, with the flags \`npm start\` gives it, defaults but ports, SRT off, log level info) and its RSS is read from /proc every 250 ms;`
    + ` baseline = mean over the last 2 s of warm-up (publisher and ${o.viewers.length} viewers on), growth = max during the attack and 5 s after, minus that.`
    + ` A healthy FFmpeg publisher (320×240 30 fps, x264 + AAC) on \`healthy\`, ${o.viewers.length} WebSocket viewers in their own thread counting mfhd sequence gaps.`
    + ` Every attacker of issue 20 at once for ${o.seconds} s, each in a loop bounded in count and time, from one process.`
    + ` The load generators (attackers, the healthy publisher and viewers) run under ${o.load}: on two cores they would otherwise take the server's CPU, which on a real deployment they don't share.`
    + ' `/livez` on the public port timed every 20 ms over one keep-alive connection from its own thread'
    + (o.probeRt ? ` at \`SCHED_FIFO\` ${o.probeRt} (as a health check from another machine, whose wake-ups do not wait behind this one's load: at normal priority the do-nothing control's own p99 read 4.6–6.5 ms; \`--probe-rt 0\`)` : ' at normal priority')
    + (o.probeClient === 'http' ? ', through node:http\'s client' : ', from writing the request on a plain socket to the last byte of the response (node:http\'s client added ~0.5 ms at p50 and more in the tail: `--probe-client http`)')
    + '; the control is the same probe against a do-nothing uWS server in the same run.',
    '',
    table(['measure', 'result', 'target', ''], rows),
    '',
    `Relay RSS from the attack's start (s: MB): ${o.rssSeries.map((p) => `${p.t}: ${p.mb.toFixed(0)}`).join(', ')}.`
    + ` V8 heap total / used / external before → 5 s after: ${heapText(o.heapBefore)} → ${heapText(o.heapAfter)} MB.${spaceText(o.heapBefore, o.heapAfter)}`,
    '',
    '**Attackers** (connections or requests made, and how each ended, as the attacker saw it):',
    '',
    a ? table(['attacker', 'made', 'endings'], attackerRows(a.tallies)) : '(the attackers did not report)',
    '',
    a ? `Header storm: ${a.storm.bursts} bursts of 30 changed AVC headers; a viewer of \`storm\` received ${a.storm.stormViewerInits} init segments in all (one per publish, plus changes within rtmp.maxHeaderChangesPer10s).` : '',
    `Forged QoE: \`nowcast_qoe_stalls_total{stream="healthy"}\` = ${o.qoeStallsHealthy} at the end (no real viewer reports on this stream; every stall counted is forged). Bad viewer messages counted: ${o.badViewerMessages}.`,
    `Server log during the run: ${o.log.lines} lines, ${(o.log.bytes / 1024).toFixed(0)} KiB, longest line ${o.log.longest} bytes.`,
    '',
    '**`nowcast_protocol_errors_total`** at the end (ops `/metrics`):',
    '',
    table(['protocol', 'code', 'count'], o.protocolErrors.sort((x, y) => y.value - x.value).map((e) => [e.protocol, e.code, String(e.value)])),
  ];
  return parts.join('\n');
}
