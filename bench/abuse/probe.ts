// Worker: times GET /livez on the public port every ~20 ms over one keep-alive connection, per
// phase (idle, attack, after): by default (raw) from the request's write to the response's last
// byte on a plain socket; with --probe-client http through node:http's client, whose own parser
// and events added ~0.5 ms at p50 and more in the tail (2026-12-07: p50 0.75 → 0.26 ms). Its own thread, so what it measures is the server's answer, not
// this process's event loop; at normal priority, or (rt) SCHED_FIFO, standing in for a health
// check from another machine: on these two cores its own wakeups otherwise wait behind the
// benchmark's processes and show in every figure, the do-nothing control's too.
import { parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { setPriority } from 'node:os';

export type ProbeRequest = { type: 'phase'; phase: string } | { type: 'stop' };
export interface ProbeReply { type: 'probe'; phases: Record<string, { lat: number[]; failed: number }> }

const { url, intervalMs, nice, rt, raw } = workerData as { url: string; intervalMs: number; nice?: number; rt?: number; raw?: boolean };
// Linux nice and policy are per thread: this thread's own id is in /proc/thread-self (…/task/TID).
const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
if (nice) setPriority(tid, nice);
if (rt) execFileSync('chrt', ['-f', '-p', String(rt), String(tid)]);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const phases: ProbeReply['phases'] = {};
let phase = 'idle';
let stopped = false;

function once(): Promise<number | null> {
  return new Promise((resolve) => {
    const t = performance.now();
    const req = request(url, { agent, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - t : null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

// raw: the request written on one kept-alive socket and timed to the last byte of the response,
// without node:http's client (its parser and the events between the bytes and 'end').
const target = new URL(url);
const request1 = Buffer.from(`GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\n\r\n`);
let sock: Socket | null = null;
let onData: ((d: Buffer) => void) | null = null;
function rawSocket(): Promise<Socket | null> {
  if (sock && !sock.destroyed) return Promise.resolve(sock);
  return new Promise((resolve) => {
    const s = connect(Number(target.port), target.hostname);
    s.setNoDelay(true);
    s.once('connect', () => { sock = s; resolve(s); });
    s.once('error', () => resolve(null));
    s.on('data', (d) => onData?.(d));
    s.on('close', () => { if (sock === s) sock = null; });
  });
}
async function onceRaw(): Promise<number | null> {
  const s = await rawSocket();
  if (!s) return null;
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { onData = null; s.destroy(); resolve(null); }, 5_000);
    onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? NaN);
      if (!(buf.length >= end + 4 + length)) return;
      const ms = performance.now() - t;
      clearTimeout(timer);
      onData = null;
      resolve(buf.subarray(0, 12).toString('latin1').endsWith('200') ? ms : null);
    };
    const t = performance.now();
    s.write(request1);
  });
}

parentPort!.on('message', (m: ProbeRequest) => {
  if (m.type === 'phase') phase = m.phase;
  else stopped = true;
});

// Bounded by the parent's stop, and by a count (an hour of probes) in case it never comes.
for (let i = 0; i < 180_000 && !stopped; i++) {
  const ms = await (raw ? onceRaw() : once());
  const p = (phases[phase] ??= { lat: [], failed: 0 });
  if (ms === null) p.failed++;
  else p.lat.push(ms);
  await new Promise((r) => setTimeout(r, intervalMs));
}
agent.destroy();
(sock as Socket | null)?.destroy();
parentPort!.postMessage({ type: 'probe', phases } satisfies ProbeReply);
