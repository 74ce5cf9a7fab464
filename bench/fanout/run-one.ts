// One measurement: a sender pinned to core 0, a load generator pinned to core 1, N viewers,
// a warm-up, a fixed window in which CPU, RSS and kernel memory are sampled, then the
// receipt and arrival logs are joined. Writes one JSON result. Every child is bounded in time.
//
// Args: --sender nowcast|ws|nms|c|uws-publish|uws-send|uws-send-nocork  --n N
//       [--client node|c] [--slow-every 0] [--warmup-s 3] [--window-s 10] [--config JSON] [--perf]
//       [--ack-ms 0: with the C client, every viewer acks its newest chunk this often (docs/protocol.md); 0: no acks]
//       [--client-spin: the C client polls without sleeping, so the sender's send() never pays for waking it (client/client.c)]
//       [--client-quickack: the acking C client keeps TCP's ACKs as without acks (client/client.c)]
//       [--diag: sample /proc (cores, the sender's threads) every 10 ms and log the sender's GC
//        pauses and sweeps into the work dir; with --keep, for bench/fanout/diagnose.ts;
//        --sample-ms 0 turns the /proc sampler off, as it costs its core some CPU)]
//       [--helpers-nice N: nowcast sender's non-main threads' nice, default 19 (0: left at 0)]
//       --source FILE --chunkfile FILE --bin DIR --out RESULT.json [--tag TEXT]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from '../../test/helpers/ports.js';
import { monoMs, sleep } from './lib/clock.js';
import { num, parseArgs, str } from './lib/control.js';
import { allCpu, coreTimes, cpuSeconds, otherCpuSeconds, rssBytes, tcpKernelBytes, type CoreTimes } from './lib/proc.js';
import { readReceipts } from './lib/receipts.js';
import { analyze, readArrivals, type Analysis } from './lib/analyze.js';
import { loadSource } from './lib/source.js';
import { startSampler } from './lib/sampler.js';
import { NODE_FLAGS } from '../../app/node-flags.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = parseArgs();
const sender = str(args, 'sender');
const N = num(args, 'n');
const clientKind = str(args, 'client', 'c');
const slowEvery = num(args, 'slow-every', 0);
const ackMs = num(args, 'ack-ms', 0);
const warmupS = num(args, 'warmup-s', 3);
const windowS = num(args, 'window-s', 10);
const out = resolve(str(args, 'out'));
const work = out.replace(/\.json$/, '') + '.tmp';
const RELAY_CPU = '0';
const GEN_CPU = '1';
/** A sender past this RSS is not keeping up; the run is stopped rather than let it eat the machine. */
const RSS_LIMIT = 6 * 1024 ** 3;
mkdirSync(work, { recursive: true });

interface Child {
  proc: ChildProcess;
  events: Array<Record<string, unknown>>;
  waitFor(event: string, ms: number): Promise<Record<string, unknown>>;
  stop(ms?: number): Promise<void>;
  stderr: string;
  /** --diag: stdout lines that are not events (e.g. V8 traces), with the time they were read. */
  otherLines: string[];
}

function start(cmd: string[], cpu: string, name: string): Child {
  const proc = spawn('taskset', ['-c', cpu, ...cmd], { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  const c: Child = {
    proc,
    events,
    stderr: '',
    otherLines: [],
    waitFor: (event, ms) => new Promise((res, rej) => {
      const check = (): boolean => {
        const e = events.find((x) => x.event === event);
        if (e) { res(e); return true; }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => rej(new Error(`${name}: no "${event}" within ${ms} ms; stderr: ${c.stderr.slice(-1500)}`)), ms);
      const w = (): void => { if (check()) clearTimeout(timer); else waiters.push(w); };
      waiters.push(w);
      proc.once('exit', (code) => { clearTimeout(timer); if (!check()) rej(new Error(`${name} exited (${code}) before "${event}"; stderr: ${c.stderr.slice(-1500)}`)); });
    }),
    stop: async (ms = 15_000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.stdin?.write('stop\n');
      const t = setTimeout(() => proc.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(t);
    },
  };
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) { if (args.diag) c.otherLines.push(`${monoMs().toFixed(1)} ${line}`); return; }
    try { events.push(JSON.parse(line) as Record<string, unknown>); } catch { return; }
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.on('data', (d: Buffer) => { c.stderr = (c.stderr + d.toString()).slice(-8000); });
  proc.stdin!.on('error', () => undefined);
  return c;
}

/** Share of samples per binary (kernel, uWS addon, node/V8, libc...) from a perf.data file. */
function perfDso(file: string): Array<{ dso: string; pct: number }> {
  const r = spawnSync('perf', ['report', '-i', file, '--sort', 'dso', '--stdio', '--percent-limit', '0.5'], { encoding: 'utf8' });
  const out: Array<{ dso: string; pct: number }> = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^\s+([\d.]+)%\s+(\S.*)$/.exec(line);
    if (m) out.push({ dso: m[2]!.trim(), pct: Number(m[1]) });
  }
  return out;
}

const tsx = (file: string, a: string[]): string[] => ['node', '--import', 'tsx', join(HERE, file), ...a];
/** Node flags of our relay's process: the shipped ones (app/node-flags.ts), or FANOUT_RELAY_NODE_ARGS's ("" for none) to compare. */
const relayNodeArgs = process.env.FANOUT_RELAY_NODE_ARGS?.split(' ').filter(Boolean) ?? [...NODE_FLAGS];

/** The sender's own process id: for tsx children the node process itself (node --import tsx does not fork). */
async function main(): Promise<void> {
  const source = resolve(str(args, 'source'));
  const src = loadSource(source);
  const port = await freeTcpPort();
  const receiptsFile = join(work, 'receipts.txt');
  const arrivalsFile = join(work, 'arrivals.bin');
  const maxS = warmupS + windowS + 120;
  const children: Child[] = [];
  let publisher: ChildProcess | null = null;
  const result: Record<string, unknown> = { sender, n: N, client: clientKind, clientSpin: Boolean(args['client-spin']), clientQuickack: Boolean(args['client-quickack']), slowEvery, ackMs, warmupS, windowS, tag: args.tag ?? null, config: args.config ?? null, bitrate: src.bitrate };
  // Start on a quiet machine: other people's tests and builds don't take the heavy-run lock.
  // Wait (bounded) until other processes use < --quiet (default 10%) of a core over 2 s.
  const quiet = num(args, 'quiet', 0.1);
  const qStart = monoMs();
  let lastLoad = NaN;
  while (monoMs() - qStart < num(args, 'quiet-wait-s', 90) * 1000) {
    const a0 = allCpu();
    const w0 = monoMs();
    await sleep(2000);
    lastLoad = otherCpuSeconds(a0, allCpu(), new Set([process.pid])) / ((monoMs() - w0) / 1000);
    if (lastLoad < quiet) break;
  }
  result.quietWait = { s: (monoMs() - qStart) / 1000, load: lastLoad };
  try {
    let relay: Child;
    let path = '/live/bench';
    let mode = 'fmp4';
    const common = ['--port', String(port), '--receipts', receiptsFile, '--max-s', String(maxS)];
    if (sender === 'nowcast') {
      const extra = [...(args.config ? ['--config', args.config] : []), ...(args.diag ? ['--diag', join(work, 'sender-diag.json')] : []),
        ...(args['v8-flags'] ? ['--v8-flags', args['v8-flags']] : []), ...(args['helpers-nice'] ? ['--helpers-nice', args['helpers-nice']] : [])];
      relay = start(['node', ...relayNodeArgs, ...tsx('senders/nowcast.ts', [...common, '--source', source, ...extra]).slice(1)], RELAY_CPU, sender);
    } else if (sender === 'ws') {
      relay = start(tsx('senders/ws-baseline.ts', [...common, '--source', source]), RELAY_CPU, 'ws');
    } else if (sender.startsWith('uws-')) {
      relay = start(tsx('senders/uws-variant.ts', [...common, '--source', source, '--mode', sender.slice(4)]), RELAY_CPU, sender);
    } else if (sender === 'c') {
      relay = start([join(str(args, 'bin'), 'sender'), String(port), resolve(str(args, 'chunkfile')), receiptsFile, String(maxS)], RELAY_CPU, 'c-sender');
    } else if (sender === 'nms') {
      const rtmpPort = await freeTcpPort();
      relay = start(tsx('senders/nms.ts', [...common, '--rtmp-port', String(rtmpPort)]), RELAY_CPU, 'nms');
      path = '/live/bench.flv';
      mode = 'flv';
      await relay.waitFor('listening', 30_000);
      await sleep(300);
      publisher = spawn('taskset', ['-c', GEN_CPU, 'ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1',
        '-i', source, '-c', 'copy', '-t', String(maxS), '-f', 'flv', `rtmp://127.0.0.1:${rtmpPort}/live/bench`], { stdio: ['ignore', 'ignore', 'pipe'] });
    } else {
      throw new Error(`unknown sender ${sender}`);
    }
    children.push(relay);
    const listening = await relay.waitFor('listening', 30_000);
    await relay.waitFor('live', 30_000);
    const relayPid = Number(listening.pid ?? relay.proc.pid);
    // Our sender's process setting: nice of its non-main threads (senders/nowcast.ts); rows without it ran them at 0.
    if (listening.helpersNice !== undefined) result.helpersNice = listening.helpersNice;
    await sleep(2000);
    const rssIdle = rssBytes(relayPid);
    const kernIdle = tcpKernelBytes();

    const gen = clientKind === 'node'
      ? start(tsx('client/loadgen.ts', ['--port', String(port), '--path', path, '--n', String(N), '--mode', mode, '--seq-offset', String(src.seqOffset),
        '--slow-every', String(slowEvery), '--slow-rate-bps', String(Math.round(src.bitrate / 4)), '--max-s', String(maxS), '--out', arrivalsFile]), GEN_CPU, 'loadgen')
      : start([join(str(args, 'bin'), 'client'), String(port), path, String(N), mode, String(src.seqOffset), String(slowEvery),
        String(Math.round(src.bitrate / 4)), String(maxS), arrivalsFile, String(ackMs), '1', (args['client-spin'] ? 's' : '') + (args['client-quickack'] ? 'q' : '') || '-'], GEN_CPU, 'c-client');
    children.push(gen);
    const genPid = gen.proc.pid!;
    const sampleMs = num(args, 'sample-ms', args.diag ? 10 : 0);
    const sampler = sampleMs > 0 ? startSampler(relayPid, new Set([process.pid, relayPid, genPid, relay.proc.pid!]), sampleMs) : null;
    const allJoin = allCpu();
    const cJoin = coreTimes();
    const rJoin = cpuSeconds(relayPid);
    const tJoin = monoMs();
    // taskset execs the program, so the pid is the generator itself.
    const joined = await gen.waitFor('joined', 120_000).catch((err: unknown) => {
      const last = [...gen.events].reverse().find((e) => e.event === 'progress');
      throw new Error(`${last ? `only ${String(last.joined)} of ${N} viewers joined in ${String(last.ms)} ms` : 'viewers did not join'}: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}`);
    });
    result.join = joined;
    await sleep(warmupS * 1000);

    const all0 = allCpu();
    const c0 = coreTimes();
    const r0 = cpuSeconds(relayPid);
    const g0 = cpuSeconds(genPid);
    const t0 = monoMs();
    // --perf: sample the sender during the window (a separate run from the measured ones).
    const perfFile = join(work, 'perf.data');
    const perf = args.perf ? spawn('perf', ['record', '-F', '499', '-p', String(relayPid), '-o', perfFile, '--', 'sleep', String(windowS)], { stdio: 'ignore' }) : null;
    let rssMax = 0;
    let rssMin = Infinity;
    let aborted: string | null = null;
    while (monoMs() - t0 < windowS * 1000) {
      await sleep(250);
      const r = rssBytes(relayPid);
      rssMax = Math.max(rssMax, r);
      rssMin = Math.min(rssMin, r);
      if (r > RSS_LIMIT) { aborted = `sender RSS ${(r / 2 ** 20).toFixed(0)} MiB over the limit`; break; }
    }
    const t1 = monoMs();
    if (sampler) writeFileSync(join(work, 'samples.json'), JSON.stringify(sampler.stop()));
    const r1 = cpuSeconds(relayPid);
    const g1 = cpuSeconds(genPid);
    const c1 = coreTimes();
    const all1 = allCpu();
    const ours = new Set([process.pid, relayPid, genPid, relay.proc.pid!, ...(publisher?.pid ? [publisher.pid] : [])]);
    const publisherCpu = publisher?.pid ? (all1.get(publisher.pid) ?? 0) - (all0.get(publisher.pid) ?? 0) : 0;
    const rssEnd = rssBytes(relayPid);
    const kernEnd = tcpKernelBytes();
    const wall = (t1 - t0) / 1000;
    const core = (a: CoreTimes | undefined, b: CoreTimes | undefined): number => (a && b ? (b.busy - a.busy) / (b.total - a.total) : NaN);
    // Give late chunks of the window time to arrive (bounded by the sender's own lag).
    await sleep(aborted ? 0 : 2000);
    await gen.stop();
    const stopAt = monoMs();
    await relay.stop();
    const stopMs = monoMs() - stopAt;
    result.generator = { ...gen.events.find((e) => e.event === 'done'), cpu: (g1 - g0) / wall, core: core(c0[1], c1[1]) };
    result.relayStop = relay.events.find((e) => e.event === 'stopped') ?? null;
    result.relay = {
      cpu: (r1 - r0) / wall,
      core: core(c0[0], c1[0]),
      rssIdle,
      rssEnd,
      rssMax,
      rssMin,
      rssPerViewer: (rssEnd - rssIdle) / N,
      kernelTcpPerViewer: (kernEnd - kernIdle) / N,
    };
    result.aborted = aborted;
    result.windowAt = { t0, t1 };
    if (perf) {
      await new Promise<void>((r) => { if (perf.exitCode !== null) r(); else perf.once('exit', () => r()); });
      result.profile = perfDso(perfFile);
    }
    // CPU (cores) that other processes on the machine used during the window: contamination.
    result.background = otherCpuSeconds(all0, all1, ours) / wall;
    // The same from the first connect to the window's start (join + warm-up): a backlog built
    // there still drains inside the window (intake lag).
    result.backgroundBefore = otherCpuSeconds(allJoin, all0, ours) / ((t0 - tJoin) / 1000);
    // Share of the sender's core (0) that something other than the sender used (other
    // processes, kernel threads, interrupts), before the window and in it: what pushed a pinned
    // sender off its core.
    const beforeS = (t0 - tJoin) / 1000;
    result.core0Other = { before: core(cJoin[0], c0[0]) - (r0 - rJoin) / beforeS, window: core(c0[0], c1[0]) - (r1 - r0) / wall };
    result.publisherCpu = publisherCpu / wall;
    if (!existsSync(receiptsFile)) {
      throw new Error(`sender wrote no receipts (exit ${relay.proc.exitCode}, signal ${relay.proc.signalCode}, ` +
        `stopped in ${stopMs.toFixed(0)} ms, events ${JSON.stringify(relay.events.slice(-3))}); its stderr: ${relay.stderr.slice(-2000)}`);
    }
    const analysis: Analysis = analyze(readReceipts(receiptsFile), readArrivals(arrivalsFile), t0, t1);
    result.analysis = analysis;
    const relayCpu = (r1 - r0) / wall;
    result.cpuPerGbps = relayCpu / analysis.deliveredGbps;
  } finally {
    for (const c of children) await c.stop(5000).catch(() => undefined);
    if (args.diag && children[0]) {
      // The sender's last stdout lines can be read after its exit event.
      await sleep(300);
      writeFileSync(join(work, 'sender-stdout.txt'), children[0].otherLines.join('\n') + '\n');
    }
    if (publisher && publisher.exitCode === null) publisher.kill('SIGKILL');
    if (!args.keep) rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(out, JSON.stringify(result, null, 2));
  const a = result.analysis as Analysis;
  const r = result.relay as { cpu: number; rssPerViewer: number };
  const g = result.generator as { cpu: number };
  console.log(`${sender} n=${N} client=${clientKind}${slowEvery ? ` slow=1/${slowEvery}` : ''}: relay ${(r.cpu * 100).toFixed(1)}% gen ${(g.cpu * 100).toFixed(1)}% ` +
    `${a.deliveredGbps.toFixed(3)} Gbit/s p50 ${a.healthy.latency.p50.toFixed(2)} p99 ${a.healthy.latency.p99.toFixed(2)} max ${a.healthy.latency.max.toFixed(2)} ms ` +
    `missing ${a.healthy.missing} skips ${a.slow.skips} rss/viewer ${(r.rssPerViewer / 1024).toFixed(1)} KiB background ${((result.background as number) * 100).toFixed(0)}% ` +
    `(before window ${((result.backgroundBefore as number) * 100).toFixed(0)}%) intake lag max ${a.senderLag.max.toFixed(0)} ms, core 0 used by others ${JSON.stringify(result.core0Other, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) : v))}%`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  writeFileSync(out, JSON.stringify({ sender, n: N, client: clientKind, slowEvery, error: String(err instanceof Error ? err.message : err) }, null, 2));
  process.exit(1);
});
