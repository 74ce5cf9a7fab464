// `npm run bench:network [-- --parts acks,slow,freeze,bottleneck] [--abr]`: the network issue's
// measurements (docs/protocol.md#acknowledgements, player/outage.ts), each heavy step under the
// shared lock, every wait bounded; writes the "## Network" section of bench/RESULTS.md.
//   acks        bench:fanout's relay at 2,000 and 4,000 viewers, acking as the player does (ACK_INTERVAL_MS) or not
//   slow        1,000 viewers of a 2 Mbit/s stream, 5 % reading at 25 % of its rate, Linux default
//               kernel buffers, with acks; and the same without slow viewers (the baseline)
//   freeze      the relay stopped (SIGSTOP) for 2 s under a viewer in Chromium
//   bottleneck  2.5 Mbit/s through a 1.2 Mbit/s link for 30 s in Chromium (--abr: the ABR row)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../fanout/lib/control.js';
import { fanoutRun, prepare, ROOT, type FanoutRun } from './fanout-parts.js';
import { machine, mergeSubsections, readSection, writeSection } from '../lib/results.js';
import { ACK_INTERVAL_MS } from '../../protocol/messages.js';

const args = parseArgs();
const parts = new Set((args.parts ?? 'bottleneck,slow,freeze,acks').split(','));
const windowS = Number(args['window-s'] ?? 10);
const f1 = (x: number): string => x.toFixed(1);
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

const started = new Date().toISOString();
const head = `${started.slice(0, 16).replace('T', ' ')} UTC, ${machine()}, \`npm run bench:network${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}\``;
const OUT = join(ROOT, 'bench', 'out', 'network');
mkdirSync(OUT, { recursive: true });
/** This run's subsections; the section keeps every other part's, and earlier runs, as they were (mergeSubsections). */
const fresh: string[] = [];
let lines: string[] = [];
const savePart = (name: string): void => {
  const [title, ...rest] = lines;
  const text = [title, '', `${head}.`, ...rest].join('\n');
  writeFileSync(join(OUT, `part-${name}.md`), text);
  fresh.push(text);
  lines = [];
};

if (parts.has('acks') || parts.has('slow')) {
  const p = prepare();
  if (parts.has('acks')) {
    const rows: FanoutRun[] = [];
    const intervals = (args['ack-intervals'] ?? `0,${ACK_INTERVAL_MS}`).split(',').map(Number);
    // The client spins (the relay's send() never pays for waking it) and keeps TCP's own ACKs as
    // without acks, so the rows differ by the ack messages alone (bench/fanout/client/client.c).
    const clientArgs = ['--client-spin', '--client-quickack'];
    for (const n of [2000, 4000]) for (const ackMs of intervals) rows.push(fanoutRun(p, `acks-${ackMs}-${n}`, n, ackMs, 0, windowS, clientArgs));
    lines.push('### What acknowledgements cost the relay (bench:fanout\'s relay and C client, 720p 2 Mbit/s, relay on one core)', '',
      '| viewers | acks | relay CPU (of a core) | delivered | delivery p50 / p99 | healthy chunks missing | other processes\' CPU / of the relay\'s core | acks refused or stale |', '|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      if (r.error) { lines.push(`| ${r.n} | ${r.ackMs ? `every ${r.ackMs} ms` : 'off'} | error: ${r.error.slice(0, 120)} | | | | | |`); continue; }
      lines.push(`| ${r.n} | ${r.ackMs ? `every ${r.ackMs} ms` : 'off'} | ${pct(r.relayCpu)} | ${r.analysis.deliveredGbps.toFixed(2)} Gbit/s | ${f1(r.p50)} / ${f1(r.p99)} ms | ${r.missing} | ${pct(r.background)} / ${pct(r.core0Other)} | ${r.relayStop?.badMessages ?? '?'} / ${r.relayStop?.staleAcks ?? '?'} |`);
    }
    lines.push('');
    writeFileSync(join(OUT, `acks-${intervals.join('-')}.json`), JSON.stringify(rows.map(({ analysis: _a, ...r }) => r), null, 1));
    savePart(`acks-${intervals.join('-')}`);
  }
  if (parts.has('slow')) {
    const base = fanoutRun(p, 'slow-base-1000', 1000, ACK_INTERVAL_MS, 0, 30);
    const slow = fanoutRun(p, 'slow-acks-1000', 1000, ACK_INTERVAL_MS, 20, 30);
    const within = slow.skipAfterMs.filter((x) => x <= 2000).length;
    const sorted = [...slow.skipAfterMs].sort((a, b) => a - b);
    lines.push(`### Slow viewers with Linux default kernel buffers (1,000 viewers, 5 % reading at 25 % of the rate, all acking every ${ACK_INTERVAL_MS} ms, 30 s)`, '',
      '| run | healthy delivery p50 / p99 | healthy chunks missing | slow viewers stopped ≤ 2 s after they fell behind | time to the relay\'s stop, p50 / max | skips (ack / bytes rule) |', '|---|---|---|---|---|---|');
    for (const r of [base, slow]) {
      if (r.error) { lines.push(`| ${r.id} | error: ${r.error.slice(0, 120)} | | | | |`); continue; }
      const st = r === slow ? `${within} of ${slow.slowViewers}` : '–';
      const t = r === slow && sorted.length ? `${(sorted[Math.floor(sorted.length / 2)]! / 1000).toFixed(2)} / ${(sorted.at(-1)! / 1000).toFixed(2)} s` : '–';
      lines.push(`| ${r.id === base.id ? 'no slow viewers' : '5 % slow'} | ${f1(r.p50)} / ${f1(r.p99)} ms | ${r.missing} | ${st} | ${t} | ${r.relayStop?.skipsByRule ? `${r.relayStop.skipsByRule.ack} / ${r.relayStop.skipsByRule.bytes}` : '?'} |`);
    }
    if (!base.error && !slow.error) lines.push('', `Healthy p99 with slow viewers: ${((slow.p99 / base.p99 - 1) * 100).toFixed(0)} % against the run without (target ≤ +10 %). A slow viewer falls behind from its first chunk (it reads at 25 % from its join); the relay's stop is the send time of the last chunk it got before its first \`skip\`.`);
    lines.push('');
    writeFileSync(join(OUT, 'slow.json'), JSON.stringify([base, slow].map(({ analysis: _a, ...r }) => r), null, 1));
    savePart('slow');
  }
}

if (parts.has('freeze')) {
  const { runFreeze } = await import('./freeze.js');
  const r = await runFreeze();
  lines.push(...r.lines, '');
  savePart('freeze');
}

if (parts.has('bottleneck')) {
  const { runBottleneck } = await import('./bottleneck.js');
  const r = await runBottleneck(!!args.abr);
  lines.push(...r.lines, '');
  savePart('bottleneck');
}

const TITLE = 'Network (npm run bench:network)';
const body = mergeSubsections(readSection(TITLE), fresh, 'Each part\'s runs are dated below, newest first under each heading, each with its machine.');
writeSection(TITLE, body.replace(/\n{3,}/g, '\n\n'));
console.log(fresh.join('\n\n'));
