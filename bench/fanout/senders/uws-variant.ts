// A stripped copy of the relay's hot path on uWS, to measure fan-out choices in isolation:
//   publish      one app.publish per chunk (what relay/stream.ts does), no sweep, no GOP cache
//   send         a JS loop of ws.cork(() => ws.send(chunk)) per viewer
//   send-nocork  a JS loop of ws.send(chunk) per viewer, outside any cork
// Same protocol subset as the C floor (binary chunk frames only). Args as senders/nowcast.ts
// plus --mode.
import uWS from 'uWebSockets.js';
import { num, parseArgs, str } from '../lib/control.js';
import { runPacedSender } from '../lib/pacer.js';
import { loadSource } from '../lib/source.js';
import type { Chunk } from '../../../media/types.js';

const args = parseArgs();
const maxS = num(args, 'max-s', 120);
const mode = str(args, 'mode');
if (!['publish', 'send', 'send-nocork'].includes(mode)) throw new Error(`unknown mode ${mode}`);
const src = loadSource(str(args, 'source'));
const viewers = new Set<uWS.WebSocket<object>>();
const app = uWS.App().ws<object>('/live/bench', {
  compression: uWS.DISABLED,
  maxBackpressure: 4 * 1024 * 1024,
  closeOnBackpressureLimit: true,
  idleTimeout: 60,
  open: (ws) => { if (mode === 'publish') ws.subscribe('m'); else viewers.add(ws); },
  close: (ws) => { viewers.delete(ws); },
});
await new Promise<void>((res, rej) => app.listen('127.0.0.1', num(args, 'port'), (s) => (s ? res() : rej(new Error('listen failed')))));

const emit = mode === 'publish'
  ? (c: Chunk) => { app.publish('m', c.bytes, true); }
  : mode === 'send'
    ? (c: Chunk) => { const b = c.bytes; for (const v of viewers) v.cork(() => v.send(b, true)); }
    : (c: Chunk) => { const b = c.bytes; for (const v of viewers) v.send(b, true); };
runPacedSender({
  src, maxS, receipts: str(args, 'receipts'), emit, listening: { port: num(args, 'port') },
  report: () => ({ viewers: mode === 'publish' ? app.numSubscribers('m') : viewers.size }),
  close: () => app.close(),
});
