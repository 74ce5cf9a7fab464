// bench:network's bottleneck: a 2.5 Mbit/s source in Chromium through a 1.2 Mbit/s link (HTB on
// the viewer's veth, bench:latency's bandwidth scenario) for 30 s. `abr`: the with-ABR row (the
// ABR engineer's hook: it passes its page query / relay config to bench:latency here).
import { latencyRow } from './latency-parts.js';

export const CUT_KBPS = 1200;
export const VIDEO_KBPS = 2500;
export const CUT_MS = 30_000;
/** The window (s): the cut starts 4 s in and ends 16 s before its end, so an up-switch within 15 s of it shows. */
export const WINDOW_S = 50;

export async function runBottleneck(abr: boolean): Promise<{ lines: string[] }> {
  const extra = ['--cut-kbps', String(CUT_KBPS), '--cut-ms', String(CUT_MS), '--video-kbps', String(VIDEO_KBPS)];
  const rows: Array<[string, ReturnType<typeof latencyRow>]> = [['without ABR', latencyRow('bandwidth', WINDOW_S, extra)]];
  // With ABR: one 180p rendition at 700 kbit/s (+ 96 kbit/s audio), under the cut's 1.2 Mbit/s.
  if (abr) rows.push(['with ABR (a 180p rendition at 700 kbit/s)', latencyRow('bandwidth', WINDOW_S, [...extra, '--abr-kbps', '700'])]);
  const lines = [`### The bottleneck (${VIDEO_KBPS / 1000} Mbit/s source through ${CUT_KBPS / 1000} Mbit/s for ${CUT_MS / 1000} s, one viewer in Chromium)`, '',
    `| run | stalls / stalled ms | glass-to-glass p50 / p95 / max (whole ${WINDOW_S} s window) | relay skips (ack / bytes) | seeks | lower rendition on screen after the cut / the source again after it ends |`, '|---|---|---|---|---|---|'];
  for (const [label, { row, log }] of rows) {
    if (!row) { lines.push(`| ${label} | no result: ${log.split('\n').filter(Boolean).slice(-1).join(' ').slice(0, 160)} | | | | |`); continue; }
    const sw = (xs: number[] | undefined): string => (xs?.length && Number.isFinite(xs[0]) ? `${xs[0]!.toFixed(1)} s` : 'never');
    lines.push(`| ${label} | ${row.stalls} / ${row.stallMs} | ${Math.round(row.p50)} / ${Math.round(row.p95)} / ${Math.round(row.max)} ms | ${row.relaySkips ? `${row.relaySkips.ack} / ${row.relaySkips.bytes}` : '?'} | ${row.seeks} | ${sw(row.downS)} / ${sw(row.upS)} |`);
  }
  lines.push('', `Command: \`${rows[0]![1].command}\`${abr ? ' (with ABR: the same plus `--abr-kbps 700`)' : ''}; the cut starts 4 s into the ${WINDOW_S} s window and ends ${WINDOW_S - 4 - CUT_MS / 1000} s before its end. Rendition on screen: the <video>'s videoHeight, polled at 10 Hz (targets with ABR: down within 2 s of the cut, up within 15 s of its end).`);
  return { lines };
}
