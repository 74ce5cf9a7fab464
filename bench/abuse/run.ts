// `npm run bench:abuse`: every hostile case of issue 20 at once, for --seconds (60), against a
// healthy stream with --viewers (50) viewers, on the real server in its own process. Records
// healthy chunks missed, the relay's RSS growth, the public /livez latency during the run and
// crashes, and writes the "Abuse (issue 20)" section of bench/RESULTS.md.
//   npm run bench:abuse [-- --seconds 60 --viewers 50 --warmup 20 --load idle|nice --nice 10 --probe-rt auto|0|N --probe-client raw|http --no-write --only crash,idle,…]
// (--only names: crash hijack declared idle garbage-hs refused waiting storm flood qoe bigapp garbage)
import { setPriority } from 'node:os';
import WebSocket from 'ws';
import { spawn, execSync } from 'node:child_process';
import { readFileSync, appendFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freeTcpPort } from '../../test/helpers/ports.js';
import { Publisher } from '../../test/helpers/publisher.js';
import { parse } from '../../test/helpers/prom.js';
import { writeSection } from '../lib/results.js';
import { nextMessage, sleep, tsWorker } from './lib.js';
import type { ViewersReply } from './viewers.js';
import type { ProbeReply } from './probe.js';
import type { AttackersReport } from './attackers.js';
import { markdown, summary, type Outcome } from './report.js';
import { NODE_FLAGS } from '../../app/node-flags.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { values } = parseArgs({ options: {
  seconds: { type: 'string', default: '60' }, viewers: { type: 'string', default: '50' },
  warmup: { type: 'string', default: '20' }, load: { type: 'string', default: 'idle' }, nice: { type: 'string', default: '10' }, 'server-nice': { type: 'string', default: '0' }, 'probe-nice': { type: 'string', default: '0' }, 'probe-rt': { type: 'string', default: 'auto' }, 'probe-client': { type: 'string', default: 'raw' }, 'no-write': { type: 'boolean', default: false },
  only: { type: 'string', default: '' },
} });
const seconds = Math.max(5, Math.min(600, Number(values.seconds)));
const nViewers = Math.max(1, Math.min(1000, Number(values.viewers)));
const warmupS = Math.max(3, Number(values.warmup));
const nice = Math.max(0, Math.min(19, Number(values.nice)));
// --load idle (default): every load generator (attackers, the healthy publisher and its viewers)
// runs under SCHED_IDLE, on CPU the server and the probes leave idle, as if on machines of their
// own; a waking server thread preempts them at once. --load nice: under `nice -n --nice` instead,
// where on two cores the kernel's time slices (a few ms) still show in the server's /livez.
if (values.load !== 'idle' && values.load !== 'nice') throw new Error(`--load must be idle or nice, got ${values.load}`);
const loadIdle = values.load === 'idle';
const loadPrefix = loadIdle ? ['chrt', '--idle', '0'] : ['nice', '-n', String(nice)];
const t0 = Date.now();
const atS = (): number => Math.round((Date.now() - t0) / 100) / 10;

// The server, alone in its process: its RSS is its own, and its exit is a crash.
const [httpPort, rtmpPort, opsPort] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
// --inspect on loopback only so the end of the run can ask V8 for a full GC and tell garbage
// not yet collected from memory the server kept.
// ABUSE_SERVER_NODE_ARGS: node flags NODE_OPTIONS refuses (--cpu-prof, --trace-gc), for diagnosis.
const serverNodeArgs = process.env.ABUSE_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const server = spawn(process.execPath, [...NODE_FLAGS, ...serverNodeArgs, '--inspect=127.0.0.1:0', '--import', 'tsx', 'app/main.ts', '--host', '127.0.0.1', '--http-port', String(httpPort),
  '--rtmp-port', String(rtmpPort), '--ops-port', String(opsPort), '--log-format', 'json'], {
  cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOWCAST_SRT_LISTENERS: '[]', ...(process.env.ABUSE_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.ABUSE_SERVER_NODE_OPTIONS } : {}) },
});
const log = { lines: 0, bytes: 0, longest: 0, counting: false, tail: '' };
let partial = 0;
let inspectorLine = '';
// ABUSE_SERVER_LOG=FILE keeps the server's whole output (with ABUSE_SERVER_NODE_OPTIONS=--trace-gc, its GC pauses).
const serverLog = process.env.ABUSE_SERVER_LOG;
const onLog = (d: Buffer): void => {
  if (serverLog) appendFileSync(serverLog, d);
  log.tail = (log.tail + d.toString()).slice(-8_000);
  if (!inspectorLine && d.includes('Debugger listening')) inspectorLine = d.toString();
  if (!log.counting) return;
  log.bytes += d.length;
  // Line lengths across reads: a line may arrive in pieces.
  for (let i = d.indexOf(10), from = 0; ; i = d.indexOf(10, from)) {
    if (i < 0) { partial += d.length - from; break; }
    log.lines++;
    log.longest = Math.max(log.longest, partial + i - from);
    partial = 0;
    from = i + 1;
  }
};
server.stdout.on('data', onLog);
server.stderr.on('data', onLog);
const crashes: Outcome['crashes'] = [];
let stopping = false;
server.once('exit', (code, signal) => { if (!stopping) crashes.push({ code, signal, atS: atS() }); });
const pid = server.pid!;
// --server-nice N (negative needs root): the server ahead of the load generators sharing its two
// cores, as on a machine of its own where attackers and viewers spend their own CPU.
const serverNice = Math.max(-20, Math.min(19, Number(values['server-nice'])));
if (serverNice) setPriority(pid, serverNice);
// Whatever happens to this process, the server and the publisher it started go with it.
const children: Array<{ kill: (s: NodeJS.Signals) => boolean }> = [server];
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });
for (let i = 0; ; i++) {
  try { if ((await fetch(`http://127.0.0.1:${httpPort}/livez`)).ok) break; } catch { /* starting */ }
  if (i > 150 || server.exitCode !== null) throw new Error(`the server did not start:\n${log.tail}`);
  await sleep(100);
}
// The RTMP thread listens a moment after the public port: wait for it too.
for (let i = 0; ; i++) {
  const up = await new Promise<boolean>((resolve) => {
    const s = connect(rtmpPort, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
  if (up) break;
  if (i > 150 || server.exitCode !== null) throw new Error(`the RTMP port did not open:\n${log.tail}`);
  await sleep(100);
}
console.log(`[abuse] server pid ${pid}: http ${httpPort}, rtmp ${rtmpPort}, ops ${opsPort}`);

/** HeapProfiler.collectGarbage over the server's inspector WebSocket (its URL is in stderr). */
async function fullGc(): Promise<void> {
  const url = /Debugger listening on (ws:\/\/\S+)/.exec(inspectorLine)?.[1];
  if (!url) throw new Error('no inspector URL in the server output');
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  await new Promise<void>((resolve) => {
    ws.on('message', (m: Buffer) => { if ((JSON.parse(m.toString()) as { id?: number }).id === 1) resolve(); });
    ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
  });
  ws.close();
}

const rssSamples: Array<{ t: number; phase: string; mb: number }> = [];
let phase = 'warmup';
const rssMb = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
const sampler = setInterval(() => {
  try { rssSamples.push({ t: atS(), phase, mb: rssMb() }); } catch { /* exited: counted as a crash */ }
}, 250);

// The healthy publisher and viewers are load generators too: under --load with the attackers.
const publisher = new Publisher({ url: `rtmp://127.0.0.1:${rtmpPort}/live/healthy`, durationS: seconds + warmupS + 180, prefix: loadPrefix });
children.push(publisher.child);
const viewers = tsWorker(new URL('./viewers.ts', import.meta.url), { url: `ws://127.0.0.1:${httpPort}/live/healthy`, count: nViewers, load: loadIdle ? 'idle' : nice });
const isViewers = (m: unknown): m is ViewersReply => (m as ViewersReply).type === 'viewers';
const viewerStats = async (): Promise<ViewersReply['stats']> => { viewers.postMessage({ type: 'status' }); return (await nextMessage(viewers, isViewers, 10_000)).stats; };
for (let i = 0; ; i++) {
  await sleep(250);
  const s = await viewerStats();
  if (s.every((v) => v.chunks >= 15)) break;
  if (i > 160) throw new Error(`the healthy stream did not reach its viewers:\n${publisher.stderr}\n${log.tail}`);
}
console.log(`[abuse] ${nViewers} viewers receive healthy; warm-up ${warmupS} s`);
// --probe-nice N: the /livez client's thread ahead of the load generators, as a health check
// from another machine would be.
// --probe-rt N: both probes' threads at SCHED_FIFO N, 0 for normal priority; auto (default): 1
// where this user may set it (bench/abuse/probe.ts says why).
const probeNice = Math.max(-20, Math.min(19, Number(values['probe-nice'])));
const fifoAllowed = (): boolean => { try { execSync('chrt -f 1 true', { stdio: 'ignore' }); return true; } catch { return false; } };
const probeRt = values['probe-rt'] === 'auto' ? (fifoAllowed() ? 1 : 0) : Math.max(0, Math.min(99, Math.trunc(Number(values['probe-rt']))));
const probe = tsWorker(new URL('./probe.ts', import.meta.url), { url: `http://127.0.0.1:${httpPort}/livez`, intervalMs: 20, nice: probeNice, rt: probeRt, raw: values['probe-client'] === 'raw' });
const probeDone = nextMessage(probe, (m): m is ProbeReply => (m as ProbeReply).type === 'probe', (seconds + warmupS + 300) * 1000);
// The control: the same probe against a do-nothing /livez server (control.ts) at the server's priority.
const control = spawn(process.execPath, ['--import', 'tsx', 'bench/abuse/control.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
children.push(control);
if (serverNice) setPriority(control.pid!, serverNice);
const controlPort = await new Promise<number>((resolve, reject) => {
  let buf = '';
  control.stdout.on('data', (d: Buffer) => { buf += d.toString(); const m = /port (\d+)/.exec(buf); if (m) resolve(Number(m[1])); });
  control.once('exit', () => reject(new Error('the control server did not start')));
});
const controlProbe = tsWorker(new URL('./probe.ts', import.meta.url), { url: `http://127.0.0.1:${controlPort}/livez`, intervalMs: 20, nice: probeNice, rt: probeRt, raw: values['probe-client'] === 'raw' });
const controlDone = nextMessage(controlProbe, (m): m is ProbeReply => (m as ProbeReply).type === 'probe', (seconds + warmupS + 300) * 1000);
const probes = [probe, controlProbe];
await sleep(warmupS * 1000);
const base = rssSamples.filter((s) => s.t >= atS() - 2);
const baselineMb = base.reduce((a, s) => a + s.mb, 0) / Math.max(1, base.length);
// Where memory is, by the server's own account: the V8 heap, or native (sockets, buffers)?
const heap = async (): Promise<Outcome['heapBefore']> => {
  try {
    const m = parse(await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text());
    const mb = (n: string): number => (m.get(n)?.[0]?.value ?? NaN) / 2 ** 20;
    // Per space: which part of the heap V8 sized up (the young generation grows with the allocation rate).
    const spaces: Record<string, number> = {};
    for (const s of m.get('nodejs_heap_space_size_total_bytes') ?? []) if (s.labels.space) spaces[s.labels.space] = s.value / 2 ** 20;
    return { totalMb: mb('nodejs_heap_size_total_bytes'), usedMb: mb('nodejs_heap_size_used_bytes'), externalMb: mb('nodejs_external_memory_bytes'), spaces };
  } catch { return null; }
};
const heapBefore = await heap();

// The attackers: their own process under --load; "start" once their sample media is made.
log.counting = true;
const attackers = spawn(loadPrefix[0]!, [...loadPrefix.slice(1), process.execPath, '--import', 'tsx', 'bench/abuse/attackers.ts',
  '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort), '--ops-port', String(opsPort), '--seconds', String(seconds), '--only', values.only], {
  cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
});
children.push(attackers);
let out = '';
let attackStartS = 0;
attackers.stdout.on('data', (d: Buffer) => {
  out += d.toString();
  if (phase === 'warmup' && out.includes('{"start"')) { phase = 'attack'; attackStartS = atS(); for (const p of probes) p.postMessage({ type: 'phase', phase: 'attack' }); console.log(`[abuse] attack for ${seconds} s`); }
});
const attackersExit = new Promise<void>((r) => attackers.once('exit', () => r()));
const killer = setTimeout(() => attackers.kill('SIGKILL'), (seconds + 120) * 1000);
await attackersExit;
clearTimeout(killer);
phase = 'after';
for (const p of probes) p.postMessage({ type: 'phase', phase: 'after' });
console.log('[abuse] attackers done; 5 s after');
await sleep(5_000);
log.counting = false;
clearInterval(sampler);

const report = /^\{"attackers".*$/m.exec(out);
const attackersReport = report ? (JSON.parse(report[0]) as { attackers: AttackersReport }).attackers : null;
for (const p of probes) p.postMessage({ type: 'stop' });
const probeReply = await probeDone;
const controlReply = await controlDone;
control.kill('SIGTERM');
viewers.postMessage({ type: 'stop' });
const finalViewers = (await nextMessage(viewers, isViewers, 10_000)).stats;
await Promise.all([viewers.terminate(), probe.terminate(), controlProbe.terminate()]);

// The server's own counters.
const heapAfter = await heap();
// Then a full GC through the inspector: what the server still holds after the attack.
const afterGc = await fullGc().then(async () => { await sleep(500); return { rssMb: rssMb(), heap: await heap() }; }, (err: unknown) => {
  console.error(`[abuse] full GC: ${String(err)}`);
  return null;
});
let protocolErrors: Outcome['protocolErrors'] = [];
let qoeStallsHealthy = NaN;
let badViewerMessages = NaN;
try {
  const m = parse(await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text());
  protocolErrors = (m.get('nowcast_protocol_errors_total') ?? []).filter((s) => s.value > 0)
    .map((s) => ({ protocol: s.labels.protocol ?? '', code: s.labels.code ?? '', value: s.value }));
  qoeStallsHealthy = m.get('nowcast_qoe_stalls_total')?.find((s) => s.labels.stream === 'healthy')?.value ?? 0;
  badViewerMessages = m.get('nowcast_viewer_bad_messages_total')?.[0]?.value ?? NaN;
} catch (err) {
  console.error(`[abuse] /metrics: ${String(err)}`);
}

stopping = crashes.length === 0;
await publisher.stop();
server.kill('SIGINT');
await Promise.race([new Promise((r) => server.once('exit', r)), sleep(5_000).then(() => server.kill('SIGKILL'))]);

const during = rssSamples.filter((s) => s.phase !== 'warmup');
const max = during.reduce((a, s) => (s.mb > a.mb ? s : a), { t: 0, phase: '', mb: -Infinity });
const os = (): string => { try { return /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux'; } catch { return 'Linux'; } };
const git = (cmd: string): string => { try { return execSync(cmd, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return 'unknown'; } };
const extra = [values.seconds !== '60' ? `--seconds ${seconds}` : '', values.viewers !== '50' ? `--viewers ${nViewers}` : '', values.only ? `--only ${values.only}` : '', loadIdle ? '' : `--load nice --nice ${nice}`, serverNice ? `--server-nice=${serverNice}` : '', probeNice ? `--probe-nice=${probeNice}` : '', values['probe-rt'] !== 'auto' ? `--probe-rt ${probeRt}` : '', values['probe-client'] !== 'raw' ? `--probe-client ${values['probe-client']}` : ''].filter(Boolean).join(' ');
const outcome: Outcome = {
  date: git('date -u'),
  machine: `${cpus().length} × ${/EPYC/i.test(cpus()[0]?.model ?? '') ? 'AMD EPYC' : cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, ${os()}, Node ${process.version}`,
  commit: git('git rev-parse --short HEAD'),
  command: `npm run bench:abuse${extra ? ` -- ${extra}` : ''}`,
  probeClient: values['probe-client'], probeRt, seconds, viewers: finalViewers, load: loadIdle ? '`SCHED_IDLE` (`chrt --idle 0`: only CPU time the server and the probes leave idle)' : `\`nice -n ${nice}\``,
  rss: { baselineMb, maxMb: max.mb, maxAtS: Math.round(max.t - attackStartS), endMb: during.at(-1)?.mb ?? NaN },
  rssSeries: during.filter((s, i) => i % 20 === 0).map((s) => ({ t: Math.round(s.t - attackStartS), mb: s.mb })),
  heapBefore, heapAfter, afterGc,
  probe: probeReply.phases, control: controlReply.phases, crashes, attackers: attackersReport, protocolErrors, qoeStallsHealthy, badViewerMessages,
  log: { lines: log.lines, bytes: log.bytes, longest: log.longest },
};
const body = markdown(outcome);
console.log(`\n${body}\n`);
if (crashes.length) console.log(`[abuse] server output (tail):\n${log.tail}`);
if (!values['no-write']) writeSection('Abuse (issue 20)', body);
const { met } = summary(outcome);
process.exit(Object.values(met).every(Boolean) ? 0 : 1);
