// node-media-server 4 in this process, with its per-packet fan-out hooked to log receipts.
// FFmpeg publishes the recorded stream into it over RTMP (-re -c copy, started by run-one);
// viewers play ws://127.0.0.1:HTTP/live/bench.flv (WS-FLV, one FLV tag per WebSocket message).
// Receipt = the moment NMS's BroadcastServer.broadcastMessage gets a parsed video packet,
// before it builds the FLV tag and writes it to every subscriber: the same point in the
// pipeline as our sink.chunk(). The key is the packet's dts in ms, which is the FLV tag
// timestamp the viewer reads.
// Args: --port (http) --rtmp-port --receipts OUT [--max-s 120]
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monoMs } from '../lib/clock.js';
import { emitEvent, num, onStop, parseArgs, str } from '../lib/control.js';
import { ReceiptLog } from '../lib/receipts.js';

const args = parseArgs();
const maxS = num(args, 'max-s', 120);
const require = createRequire(import.meta.url);
type Packet = { codec_type: number; flags: number; dts: number; size: number };
type Broadcast = { broadcastMessage: (p: Packet) => void; subscribers: Map<string, unknown> };
const Context = require('node-media-server/src/core/context.js') as { broadcasts: Map<string, Broadcast> };
const logger = require('node-media-server/src/core/logger.js') as { level: string };
const NodeMediaServer = require('node-media-server') as new (cfg: unknown, path?: string) => { run(): Promise<void>; stop(): Promise<void> };

const receipts = new ReceiptLog(Math.ceil(maxS * 30) + 64);
let live = false;
let first: { t: number; dts: number } | null = null;
const hooked = new WeakSet<Broadcast>();
const origSet = Context.broadcasts.set.bind(Context.broadcasts);
Context.broadcasts.set = (path: string, b: Broadcast) => {
  if (!hooked.has(b)) {
    hooked.add(b);
    const orig = b.broadcastMessage;
    b.broadcastMessage = (p: Packet) => {
      // Video frames only (3 keyframe, 4 inter); headers and metadata are not chunks.
      if (p.codec_type === 9 && (p.flags === 3 || p.flags === 4)) {
        const t = monoMs();
        orig(p);
        // FFmpeg -re sends by dts: lateness against that timeline is NMS's intake lag.
        if (first === null) first = { t, dts: p.dts };
        receipts.add(p.dts, t, p.size + 15, p.flags === 3, (t - first.t) - (p.dts - first.dts));
        if (!live && p.flags === 3) { live = true; emitEvent('live'); }
        return;
      }
      orig(p);
    };
  }
  return origSet(path, b);
};

const port = num(args, 'port');
const nms = new NodeMediaServer({
  bind: '127.0.0.1',
  rtmp: { port: num(args, 'rtmp-port') },
  http: { port },
  store: { path: mkdtempSync(join(tmpdir(), 'nms-store-')) },
  webadmin: { enable: false },
  auth: { play: false, publish: false, secret: '' },
  record: { auto: false, path: mkdtempSync(join(tmpdir(), 'nms-rec-')) },
  notify: { url: '' },
});
// NMS forces "debug" and logs every play; logging thousands of lines would only slow it down.
logger.level = 'error';
await nms.run();
logger.level = 'error';
emitEvent('listening', { port, pid: process.pid });

onStop(maxS, (why) => {
  receipts.normalizeLag();
  receipts.write(str(args, 'receipts'));
  const b = Context.broadcasts.get('/live/bench');
  emitEvent('stopped', { why, chunks: receipts.length, viewers: b?.subscribers.size ?? 0 });
  setTimeout(() => process.exit(0), 50);
});
