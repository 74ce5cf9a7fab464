// Does a flood of operations requests slow the public /livez? Starts Nowcast (with its demo
// publisher) in this process; one worker thread hammers a URL with N keep-alive clients, another
// times the public /livez every 5 ms, before and during the flood. Loopback only, bounded in time.
//   npx tsx bench/ops/flood.ts [--clients 48] [--seconds 3] [--path /metrics] [--port ops|public]
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { startNowcast } from '../../test/helpers/nowcast.js';

const { values } = parseArgs({ options: {
  clients: { type: 'string', default: '48' }, seconds: { type: 'string', default: '3' },
  path: { type: 'string', default: '/metrics' }, port: { type: 'string', default: 'ops' },
} });
const clients = Math.min(256, Number(values.clients));
const seconds = Math.min(60, Number(values.seconds));

// Workers run plain JS (no tsx loader needed): fetch, a loop, a message back.
const FLOOD = `
const { parentPort, workerData: { url, clients, ms } } = require('node:worker_threads');
const codes = {}; let errors = 0; const end = Date.now() + ms;
const one = async () => { while (Date.now() < end) { try { const r = await fetch(url); await r.arrayBuffer(); codes[r.status] = (codes[r.status] ?? 0) + 1; } catch { errors++; } } };
Promise.all(Array.from({ length: clients }, one)).then(() => parentPort.postMessage({ codes, errors }));`;
const PROBE = `
const { parentPort, workerData: { url, ms } } = require('node:worker_threads');
const lat = []; let failed = 0; const end = Date.now() + ms;
(async () => { while (Date.now() < end) { const t = performance.now(); try { const r = await fetch(url); await r.text(); if (r.ok) lat.push(performance.now() - t); else failed++; } catch { failed++; } await new Promise((r) => setTimeout(r, 5)); } parentPort.postMessage({ lat, failed }); })();`;
const run = <T>(code: string, data: object): Promise<T> => new Promise((resolve, reject) => {
  const w = new Worker(code, { eval: true, workerData: data });
  w.once('message', (m: T) => { resolve(m); void w.terminate(); });
  w.once('error', reject);
});
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Number(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!.toFixed(2)) : NaN;
};
const summary = (r: { lat: number[]; failed: number }): object =>
  ({ n: r.lat.length, failed: r.failed, p50: pct(r.lat, 50), p99: pct(r.lat, 99), max: pct(r.lat, 100) });

const n = await startNowcast({ demo: { enabled: true }, srt: { listeners: [] } });
try {
  await new Promise((r) => setTimeout(r, 3_000)); // the demo stream goes live
  const livez = `${n.http}/livez`;
  const idle = await run<{ lat: number[]; failed: number }>(PROBE, { url: livez, ms: 2_000 });
  const runs0 = (await n.app.ops.stats()).collections.metrics;
  const target = `${values.port === 'public' ? n.http : n.ops}${values.path}`;
  const [flood, busy] = await Promise.all([
    run<{ codes: Record<string, number>; errors: number }>(FLOOD, { url: target, clients, ms: seconds * 1000 }),
    run<{ lat: number[]; failed: number }>(PROBE, { url: livez, ms: seconds * 1000 }),
  ]);
  console.log(JSON.stringify({
    target: `${values.port}${values.path}`, clients, seconds,
    livezIdleMs: summary(idle), livezDuringFloodMs: summary(busy),
    flood: { ...flood, perSecond: Math.round(Object.values(flood.codes).reduce((a, b) => a + b, 0) / seconds) },
    metricsCollections: (await n.app.ops.stats()).collections.metrics - runs0,
  }, null, 1));
} finally {
  await n.app.close();
  setTimeout(() => process.exit(0), 200).unref();
}
