// `npm run bench:nats`: the latency and CPU the NATS hop adds between an ingest node and its
// edges. A real nats-server (JetStream on), one origin process publishing S copies of a
// recorded 720p 2 Mbit/s stream in real time through ClusterOrigin, and E edge processes
// subscribed to all of them through ClusterEdge. Each frame is stamped at publish and at the
// edge's callback (same machine clock). nats-server and the origin run on core 0, the edges on
// core 1, as if on their own machines. The floor: the same frames between the same processes
// over one plain TCP socket per edge, no broker (tcp.ts); "added by NATS" is the difference.
// Writes the "NATS hop" section of bench/RESULTS.md.
//
// Options: --streams 1,10,40  --edges 3  --seconds 15 (measured window, after 3 s warm-up)
//          --modes staggered,aligned (streams spread over the frame interval, or all at once)
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { percentile } from '../../util/stats.js';
import { machine, writeSection } from '../lib/results.js';
import { record, loadSource } from '../fanout/lib/source.js';
import { NatsServer } from '../../test/helpers/nats-server.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const OUT = join(ROOT, 'bench', 'out', 'nats');
const { values } = parseArgs({ options: { streams: { type: 'string' }, edges: { type: 'string' }, seconds: { type: 'string' }, modes: { type: 'string' } } });
const MODES = (values.modes ?? 'staggered,aligned').split(',') as Array<'staggered' | 'aligned'>;
const STREAMS = (values.streams ?? '1,10,40').split(',').map(Number);
const EDGES = Number(values.edges ?? 3);
const WINDOW_S = Number(values.seconds ?? 15);
const WARMUP_S = 3;
const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / HZ;
}

function pin(pid: number, core: number): void {
  spawnSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

type Msg = { type: string; [k: string]: unknown };
function child(script: string, args: string[]): { p: ChildProcess; next: (type: string) => Promise<Msg> } {
  const p = fork(join(HERE, script), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: Msg[] = [];
  const waiters: Array<[string, (m: Msg) => void]> = [];
  p.on('message', (m: Msg) => {
    const i = waiters.findIndex(([t]) => t === m.type);
    if (i >= 0) waiters.splice(i, 1)[0]![1](m);
    else inbox.push(m);
  });
  const next = (type: string): Promise<Msg> => {
    const i = inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${script}: no "${type}" within 60 s`)), 60_000);
      waiters.push([type, (m) => { clearTimeout(t); resolve(m); }]);
    });
  };
  return { p, next };
}

interface Row {
  transport: 'nats' | 'tcp';
  mode: 'staggered' | 'aligned';
  streams: number;
  gbps: number;
  p50: number; p95: number; p99: number; max: number;
  samples: number;
  expected: number;
  received: number;
  gaps: number;
  cpu: { nats: number; origin: number; edges: number };
}

async function runOnce(S: number, source: string, transport: 'nats' | 'tcp', mode: 'staggered' | 'aligned'): Promise<Row> {
  const nats = await new NatsServer().start();
  try {
    pin(nats.pid, 0);
    const url = nats.url;
    const edges = Array.from({ length: EDGES }, () => child('edge.ts', transport === 'nats' ? ['--nats', url, '--streams', String(S)] : ['--tcp']));
    const ports: number[] = [];
    for (const e of edges) { ports.push(Number((await e.next('ready')).port)); pin(e.p.pid!, 1); }
    const origin = child('origin.ts', [...(transport === 'nats' ? ['--nats', url] : ['--tcp-ports', ports.join(',')]),
      '--streams', String(S), '--source', source, '--seconds', String(WARMUP_S + WINDOW_S + 3), ...(mode === 'aligned' ? ['--aligned'] : [])]);
    await origin.next('ready');
    pin(origin.p.pid!, 0);
    await sleep(WARMUP_S * 1000);
    const pids = { nats: nats.pid!, origin: origin.p.pid!, edges: edges.map((e) => e.p.pid!) };
    const c0 = { nats: cpuSeconds(pids.nats), origin: cpuSeconds(pids.origin), edges: pids.edges.map(cpuSeconds) };
    for (const e of edges) e.p.send({ type: 'start' });
    const t0 = performance.now();
    await sleep(WINDOW_S * 1000);
    const c1 = { nats: cpuSeconds(pids.nats), origin: cpuSeconds(pids.origin), edges: pids.edges.map(cpuSeconds) };
    for (const e of edges) e.p.send({ type: 'stop' });
    const elapsed = (performance.now() - t0) / 1000;
    const done = await Promise.all(edges.map((e) => e.next('done')));
    await origin.next('done');
    const hops = done.flatMap((d) => d.hops as number[]).sort((a, b) => a - b);
    const received = done.reduce((a, d) => a + (d.chunks as number), 0);
    // Bytes over the window: chunks received × the source's mean chunk size (the counters span the whole run).
    const src = loadSource(source);
    const meanChunk = src.chunks.reduce((a, c) => a + c.bytes.length, 0) / src.chunks.length;
    const deliveredGbps = (received * meanChunk * 8) / elapsed / 1e9;
    const cpu = {
      nats: transport === 'nats' ? (c1.nats - c0.nats) / elapsed : 0,
      origin: (c1.origin - c0.origin) / elapsed,
      edges: c1.edges.reduce((a, x, i) => a + x - c0.edges[i]!, 0) / elapsed,
    };
    return {
      transport, mode, streams: S, gbps: deliveredGbps,
      p50: percentile(hops, 50), p95: percentile(hops, 95), p99: percentile(hops, 99), max: hops.at(-1) ?? NaN,
      samples: hops.length, expected: Math.round(EDGES * S * elapsed * 30), received,
      gaps: done.reduce((a, d) => a + (d.gaps as number), 0), cpu,
    };
  } finally {
    await nats.close();
  }
}

mkdirSync(OUT, { recursive: true });
const source = join(OUT, 'source.mp4');
record(source, 12);
const rows: Row[] = [];
for (const mode of MODES) for (const S of STREAMS) for (const transport of ['nats', 'tcp'] as const) {
  const r = await runOnce(S, source, transport, mode);
  rows.push(r);
  console.log(`${mode} ${transport} S=${S}: ${r.gbps.toFixed(3)} Gbit/s to ${EDGES} edges, hop p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} max ${r.max.toFixed(2)} ms, ` +
    `${r.received}/${r.expected} chunks, ${r.gaps} gaps, CPU nats ${(r.cpu.nats * 100).toFixed(1)}% origin ${(r.cpu.origin * 100).toFixed(1)}% edges ${(r.cpu.edges * 100).toFixed(1)}%`);
}

const pct = (x: number): string => (x * 100).toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const cpuPerGbps = (r: Row): number => ((r.cpu.nats + r.cpu.origin + r.cpu.edges) * 100) / r.gbps;
const added = MODES.flatMap((mode) => STREAMS.map((streams) => {
  const n = rows.find((r) => r.mode === mode && r.streams === streams && r.transport === 'nats')!;
  const t = rows.find((r) => r.mode === mode && r.streams === streams && r.transport === 'tcp')!;
  return { mode, streams, p50: n.p50 - t.p50, p99: n.p99 - t.p99, whole: n.p99, cpuPerGbps: cpuPerGbps(n) - cpuPerGbps(t) };
}));
const staggered = added.filter((a) => a.mode === 'staggered');
const body = [
  `Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Machine: ${machine()}, ${spawnSync('nats-server', ['--version'], { encoding: 'utf8' }).stdout.trim()}.`,
  `Command: \`npm run bench:nats${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}\`. One origin publishing S copies of a recorded 720p30 H.264 stream (${(loadSource(source).bitrate / 1e6).toFixed(2)} Mbit/s, one frame per chunk) in real time through \`ClusterOrigin\`; ${EDGES} edges subscribed to every stream through \`ClusterEdge\`; nats-server with JetStream. nats-server and origin pinned to core 0, edges to core 1. The floor rows send the same frames between the same processes over one plain TCP socket per edge (length-prefixed, Nagle off), no broker. *Staggered*: the S streams' frames spread over the 33 ms frame interval, as independent encoders are; *aligned*: all S frames at the same instant (worst case: every edge drains a burst of S frames). ${WARMUP_S} s warm-up, ${WINDOW_S} s measured. Hop = edge callback time − origin publish time, per frame, same machine clock (µs resolution).`,
  '',
  '| streams | timing | path | delivered to edges Gbit/s | hop p50 ms | p95 | p99 | max | chunks received / expected | gaps | CPU % nats-server | CPU % origin | CPU % edges (sum) | CPU % per delivered Gbit/s (all) |',
  '|---:|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.streams} | ${r.mode} | ${r.transport === 'nats' ? 'NATS' : 'direct TCP (floor)'} | ${r.gbps.toFixed(3)} | ${f2(r.p50)} | ${f2(r.p95)} | ${f2(r.p99)} | ${f2(r.max)} | ${r.received} / ${r.expected} | ${r.gaps} | ${r.transport === 'nats' ? pct(r.cpu.nats) : '–'} | ${pct(r.cpu.origin)} | ${pct(r.cpu.edges)} | ${cpuPerGbps(r).toFixed(0)} |`),
  '',
  '**Added by NATS** (NATS row − direct TCP row at the same load and timing; the floor is what any process-to-process hop costs on this VM):',
  '',
  '| streams | timing | added p50 ms | added p99 ms | whole NATS hop p99 ms | added CPU % per delivered Gbit/s |',
  '|---:|---|---:|---:|---:|---:|',
  ...added.map((a) => `| ${a.streams} | ${a.mode} | ${f2(a.p50)} | ${f2(a.p99)} | ${f2(a.whole)} | ${a.cpuPerGbps.toFixed(0)} |`),
  '',
  `Target: ≤ 5 ms p99 added by the hop on loopback. Over the floor, staggered: ${staggered.every((a) => a.p99 <= 5) ? 'met at every load' : `missed at ${staggered.filter((a) => a.p99 > 5).map((a) => `${a.streams} streams`).join(', ')}`}; ` +
  `the whole hop, floor included, staggered: ${staggered.every((a) => a.whole <= 5) ? 'met at every load' : `missed at ${staggered.filter((a) => a.whole > 5).map((a) => `${a.streams} streams`).join(', ')}`}.`,
].join('\n');
writeSection('NATS hop (npm run bench:nats)', body);
console.log(body);
