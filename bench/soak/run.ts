// Soak: the real app in a child process for a long run with viewers and publishers coming
// and going. Samples the relay's RSS and open file descriptors over time and reports growth
// after warm-up. Usage: npm run bench:soak [-- --minutes 30 --viewers 500 --streams 3]
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { freeTcpPort, freeUdpPort } from '../../test/helpers/ports.js';
import { testSourceArgs } from '../../ingest/ffmpeg-args.js';
import { writeSection, machine } from '../lib/results.js';
import { NODE_FLAGS } from '../../app/node-flags.js';

const { values } = parseArgs({ options: {
  minutes: { type: 'string', default: '30' },
  viewers: { type: 'string', default: '500' },
  streams: { type: 'string', default: '3' },
  'warmup-minutes': { type: 'string', default: '5' },
  'no-write': { type: 'boolean', default: false },
} });
const minutes = Number(values.minutes);
const nViewers = Number(values.viewers);
const nStreams = Number(values.streams);
const warmupMs = Number(values['warmup-minutes']) * 60_000;
const endAt = Date.now() + minutes * 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rand = (lo: number, hi: number): number => lo + Math.random() * (hi - lo);

const httpPort = await freeTcpPort();
const opsPort = await freeTcpPort();
const rtmpPort = await freeTcpPort();
const srtPort = await freeUdpPort();
const app = spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', 'app/main.ts', '--host', '127.0.0.1', '--http-port', String(httpPort), '--rtmp-port', String(rtmpPort), '--ops-port', String(opsPort)], {
  stdio: 'ignore',
  env: { ...process.env, NOWCAST_LOG_LEVEL: 'warn', NOWCAST_SRT_LISTENERS: JSON.stringify([{ port: srtPort, stream: 'soaksrt' }]) },
});
for (let i = 0; i < 100; i++) {
  try { if ((await fetch(`http://127.0.0.1:${httpPort}/livez`)).ok) break; } catch { /* starting */ }
  await sleep(100);
}
const pid = app.pid!;

// Publishers: each runs 20–60 s, leaves for 2–8 s, comes back, sometimes at another size.
let publishes = 0;
const stopping = { v: false };
async function publisherLoop(i: number): Promise<void> {
  const sizes = [[320, 240], [256, 144], [426, 240]] as const;
  while (!stopping.v && Date.now() < endAt) {
    const [w, h] = sizes[publishes % sizes.length]!;
    const p = spawn('ffmpeg', testSourceArgs({ url: `rtmp://127.0.0.1:${rtmpPort}/live/soak${i}`, width: w, height: h, fps: 30, videoKbps: 300 }), { stdio: 'ignore' });
    publishes++;
    await sleep(Math.min(rand(20_000, 60_000), Math.max(0, endAt - Date.now())));
    p.kill('SIGKILL');
    if (Date.now() < endAt) await sleep(rand(2_000, 8_000));
  }
}

// Viewers: spread over the streams; 10% of them reconnect every minute.
let chunks = 0;
let connects = 0;
let open = 0;
const viewers: WebSocket[] = [];
function connectViewer(k: number): void {
  const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/live/soak${k % nStreams}`);
  connects++;
  let opened = false;
  ws.on('open', () => { opened = true; open++; });
  ws.on('message', (_d, bin) => { if (bin) chunks++; });
  ws.on('close', () => { if (opened) open--; });
  ws.on('error', () => { /* counted by close */ });
  viewers[k] = ws;
}
for (let k = 0; k < nViewers; k++) { connectViewer(k); if (k % 50 === 49) await sleep(100); }
const churn = setInterval(() => {
  for (let j = 0; j < nViewers / 10; j++) {
    const k = Math.floor(Math.random() * nViewers);
    viewers[k]?.terminate();
    connectViewer(k);
  }
}, 60_000);

interface Sample { t: number; rssMb: number; heapMb: number; externalMb: number; fds: number; open: number; relayViewers: number; chunksPerS: number }
const samples: Sample[] = [];
const t0 = Date.now();
let lastChunks = 0;
let relayViewers = 0;
let heapMb = 0;
let externalMb = 0;
const gauge = (text: string, name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
const sampler = setInterval(() => {
  // The relay's own view of its memory: is growth in the JS heap, or in native memory?
  void fetch(`http://127.0.0.1:${opsPort}/metrics`).then((r) => r.text()).then((t) => {
    heapMb = gauge(t, 'nodejs_heap_size_used_bytes');
    externalMb = gauge(t, 'nodejs_external_memory_bytes');
  }).catch(() => { /* restarting */ });
  void fetch(`http://127.0.0.1:${opsPort}/api/streams`).then((r) => r.json()).then((j: { streams: Array<{ viewers: number }> }) => {
    relayViewers = j.streams.reduce((a, s) => a + s.viewers, 0);
  }).catch(() => { /* restarting */ });
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  samples.push({ t: Math.round((Date.now() - t0) / 1000), rssMb: rssKb / 1024, heapMb, externalMb, fds, open, relayViewers, chunksPerS: (chunks - lastChunks) / 10 });
  lastChunks = chunks;
  console.log(JSON.stringify(samples.at(-1)));
}, 10_000);

await Promise.all(Array.from({ length: nStreams }, (_, i) => publisherLoop(i)));
stopping.v = true;
clearInterval(sampler);
clearInterval(churn);
for (const v of viewers) v.terminate();
app.kill('SIGTERM');

const after = samples.filter((s) => s.t * 1000 >= warmupMs);
const first = after[0];
const last = after.at(-1);
const maxRss = Math.max(...after.map((s) => s.rssMb));
const growth = first && last ? ((last.rssMb - first.rssMb) / first.rssMb) * 100 : NaN;
const heapGrowth = first && last ? ((last.heapMb - first.heapMb) / first.heapMb) * 100 : NaN;
const fdGrowth = first && last ? last.fds - first.fds : NaN;
const series = samples.filter((_, i) => i % 6 === 0 || i === samples.length - 1)
  .map((s) => `| ${s.t} | ${s.rssMb.toFixed(1)} | ${s.heapMb.toFixed(1)} | ${s.externalMb.toFixed(1)} | ${s.fds} | ${s.open} / ${s.relayViewers} | ${s.chunksPerS.toFixed(0)} |`).join('\n');
const body = `
Date: ${new Date().toISOString()}. Machine: ${machine()}.
Command: \`npm run bench:soak -- --minutes ${minutes} --viewers ${nViewers} --streams ${nStreams}\`

The app runs in its own process; ${nStreams} RTMP publishers (300 kb/s test sources) each publish for 20–60 s, leave for 2–8 s and
come back, cycling through three resolutions (${publishes} publish sessions in all); ${nViewers} WebSocket viewers spread over the streams,
10% of them replaced every minute (${connects} connections in all). RSS and open file descriptors are read from /proc every 10 s.

**RSS after warm-up (${values['warmup-minutes']} min): ${first?.rssMb.toFixed(1)} MB → ${last?.rssMb.toFixed(1)} MB at the end (${growth.toFixed(1)}%; max ${maxRss.toFixed(1)} MB).
V8 heap used: ${first?.heapMb.toFixed(1)} MB → ${last?.heapMb.toFixed(1)} MB (${heapGrowth.toFixed(1)}%).
Open descriptors: ${first?.fds} → ${last?.fds} (${fdGrowth >= 0 ? '+' : ''}${fdGrowth}).** Target: RSS growth < 5% after warm-up.
All soak processes run under \`nice -n 19\` beside other benchmarks on the same two cores.

| t (s) | RSS (MB) | V8 heap used (MB) | external (MB) | fds | viewers open (client / relay) | chunks/s received |
|---|---|---|---|---|---|---|
${series}
`;
console.log(body);
if (!values['no-write']) writeSection('Soak (npm run bench:soak)', body);
process.exit(0);
