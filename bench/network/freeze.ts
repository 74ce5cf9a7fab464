// bench:network's freeze: everything the relay sends a viewer is held for 2 s by the proxy on its
// path and then released at once (bench:latency's backlog scenario). Target: back within 50 ms
// of the player's target ≤ 1.5 s after the data returns (player/outage.ts).
import { latencyRow } from './latency-parts.js';

export async function runFreeze(): Promise<{ lines: string[] }> {
  const runs = Number(process.env.NOWCAST_FREEZE_RUNS ?? 3);
  const lines = ['### A 2 s freeze (the proxy holds the relay → viewer bytes for 2 s, then releases them at once)', '',
    '| run | back within ±50 ms of target, pixels (player\'s own figures) | peak after resume | stalls | seeks | relay skips (ack / bytes) | glass-to-glass p50 / p95 / max |', '|---|---|---|---|---|---|---|'];
  const got: number[] = [];
  let command = '';
  for (let i = 1; i <= runs; i++) {
    const { row, command: c, log } = latencyRow('backlog', 20);
    command = c;
    if (!row) { lines.push(`| ${i} | no result: ${log.split('\n').filter(Boolean).slice(-2).join(' ').slice(0, 160)} | | | | | |`); continue; }
    const s = row.recoveryS[0] ?? NaN;
    got.push(s);
    lines.push(`| ${i} | ${Number.isFinite(s) ? `${s.toFixed(2)} s` : 'not in window'} (${(row.recoveryPlayerS[0] ?? NaN).toFixed(2)} s) | ${Math.round(row.peakMs)} ms | ${row.stalls} | ${row.seeks} | ${row.relaySkips ? `${row.relaySkips.ack} / ${row.relaySkips.bytes}` : '?'} | ${Math.round(row.p50)} / ${Math.round(row.p95)} / ${Math.round(row.max)} ms |`);
  }
  lines.push('', `Each run: \`${command}\` (nowcast policy, one viewer in Chromium, pixel clock). Target ≤ 1.5 s: ${got.filter((x) => x <= 1.5).length} of ${got.length} runs.`);
  return { lines };
}
