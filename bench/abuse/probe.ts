// Worker: times GET /livez on the public port every ~20 ms over one keep-alive connection, per
// phase (idle, attack, after). Its own thread, so what it measures is the server's answer, not
// this process's event loop; at normal priority, or (rt) SCHED_FIFO, standing in for a health
// check from another machine: on these two cores its own wakeups otherwise wait behind the
// benchmark's processes and show in every figure, the do-nothing control's too.
import { parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'node:http';
import { readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { setPriority } from 'node:os';

export type ProbeRequest = { type: 'phase'; phase: string } | { type: 'stop' };
export interface ProbeReply { type: 'probe'; phases: Record<string, { lat: number[]; failed: number }> }

const { url, intervalMs, nice, rt } = workerData as { url: string; intervalMs: number; nice?: number; rt?: number };
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

parentPort!.on('message', (m: ProbeRequest) => {
  if (m.type === 'phase') phase = m.phase;
  else stopped = true;
});

// Bounded by the parent's stop, and by a count (an hour of probes) in case it never comes.
for (let i = 0; i < 180_000 && !stopped; i++) {
  const ms = await once();
  const p = (phases[phase] ??= { lat: [], failed: 0 });
  if (ms === null) p.failed++;
  else p.lat.push(ms);
  await new Promise((r) => setTimeout(r, intervalMs));
}
agent.destroy();
parentPort!.postMessage({ type: 'probe', phases } satisfies ProbeReply);
