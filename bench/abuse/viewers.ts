// Worker: the healthy stream's viewers. Each is a plain `ws` client that reads only box headers
// and counts: chunks, gaps in the mfhd sequence within one generation (missed chunks), init
// segments after the first (a new generation or a foreign init: a hijack), skips, closes.
// Its own thread, so the attackers' work in other threads never delays reading.
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { frameKind } from './lib.js';
import { execFileSync } from 'node:child_process';
import { niceThisThread, ownThreadId } from '../../util/threads.js';

export interface ViewerStats {
  chunks: number;
  missed: number;
  /** A sequence number at or below the previous one without a new init segment. */
  outOfOrder: number;
  inits: number;
  generations: number[];
  skipped: number;
  closed: boolean;
  /** Longest time between two chunks (ms) after the first. */
  maxIntervalMs: number;
}

export type ViewersRequest = { type: 'status' } | { type: 'stop' };
export interface ViewersReply { type: 'viewers'; stats: ViewerStats[] }

const { url, count, load } = workerData as { url: string; count: number; load: 'idle' | number };
// A load generator like the attackers, under their policy (run.ts --load), so the server's CPU is the server's.
if (load === 'idle') execFileSync('chrt', ['--idle', '-p', '0', String(ownThreadId())]);
else if (load) niceThisThread(load);
const stats: ViewerStats[] = [];
const sockets: WebSocket[] = [];

for (let i = 0; i < count; i++) {
  const s: ViewerStats = { chunks: 0, missed: 0, outOfOrder: 0, inits: 0, generations: [], skipped: 0, closed: false, maxIntervalMs: 0 };
  stats.push(s);
  let last = -1;
  let lastAt = 0;
  const ws = new WebSocket(url);
  sockets.push(ws);
  ws.on('error', () => { /* counted by close */ });
  ws.on('close', () => { s.closed = true; });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      const m = JSON.parse(data.toString()) as { type: string; generation?: number; chunks?: number };
      if (m.type === 'info' && typeof m.generation === 'number') s.generations.push(m.generation);
      if (m.type === 'skip') s.skipped += m.chunks ?? 0;
      return;
    }
    const f = frameKind(data);
    if (f.kind === 'init') { s.inits++; last = -1; return; }
    if (f.kind !== 'chunk') return;
    const now = performance.now();
    if (s.chunks > 0) s.maxIntervalMs = Math.max(s.maxIntervalMs, now - lastAt);
    lastAt = now;
    s.chunks++;
    if (last >= 0 && f.seq > last + 1) s.missed += f.seq - last - 1;
    else if (last >= 0 && f.seq <= last) s.outOfOrder++;
    last = f.seq;
  });
}

parentPort!.on('message', (m: ViewersRequest) => {
  parentPort!.postMessage({ type: 'viewers', stats } satisfies ViewersReply);
  if (m.type === 'stop') for (const ws of sockets) ws.terminate();
});
