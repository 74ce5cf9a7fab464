// Baseline: the same relay protocol on the `ws` library, written the way a Node developer
// would: one WebSocketServer, a loop of ws.send() per chunk, the GOP cache for joiners, and
// the same keyframe-aware skip for slow viewers, judged from ws.bufferedAmount per send.
// Args: --port --source FILE --receipts OUT [--max-s 120]
import { WebSocketServer, type WebSocket } from 'ws';
import { loadConfig } from '../../../app/config.js';
import { PROTOCOL_VERSION, type ServerMessage } from '../../../protocol/messages.js';
import type { Chunk } from '../../../media/types.js';
import { num, parseArgs, str } from '../lib/control.js';
import { runPacedSender } from '../lib/pacer.js';
import { loadSource } from '../lib/source.js';

const args = parseArgs();
const maxS = num(args, 'max-s', 120);
const src = loadSource(str(args, 'source'));
const limits = loadConfig({}, {}).relay;

interface Client { ws: WebSocket; state: 'live' | 'skipping' | 'waiting'; skipFromChunk: number; skipFromBytes: number }
const clients = new Set<Client>();
let gop: Buffer[] = [];
let chunks = 0;
let bytes = 0;
let skips = 0;
const info: ServerMessage = { type: 'info', stream: 'bench', generation: 1, mime: src.init.mime, codecs: src.init.codecs, tracks: src.init.tracks };

const wss = new WebSocketServer({ host: '127.0.0.1', port: num(args, 'port'), path: '/live/bench', perMessageDeflate: false, maxPayload: 16 * 1024 });
await new Promise<void>((r) => wss.once('listening', () => r()));
wss.on('connection', (ws) => {
  const c: Client = { ws, state: 'live', skipFromChunk: -1, skipFromBytes: 0 };
  ws.send(JSON.stringify({ type: 'hello', version: PROTOCOL_VERSION, stream: 'bench', serverTime: Date.now() }));
  ws.send(JSON.stringify(info));
  ws.send(src.init.bytes, { binary: true });
  ws.send(JSON.stringify({ type: 'state', stream: 'bench', state: 'live' }));
  if (gop.length) for (const b of gop) ws.send(b, { binary: true });
  else c.state = 'waiting';
  clients.add(c);
  ws.on('close', () => clients.delete(c));
  ws.on('error', () => clients.delete(c));
});

function onChunk(ch: Chunk): void {
  if (ch.keyframe) gop = [];
  gop.push(ch.bytes);
  chunks++;
  bytes += ch.bytes.length;
  for (const c of clients) {
    const buffered = c.ws.bufferedAmount;
    if (c.state === 'live' && buffered > limits.slowViewerBytes) {
      c.state = 'skipping';
      c.skipFromChunk = chunks - 1;
      c.skipFromBytes = bytes - ch.bytes.length;
      skips++;
    }
    if (c.state === 'skipping' && buffered < limits.resumeBytes) c.state = 'waiting';
    if (c.state === 'waiting' && ch.keyframe) {
      if (c.skipFromChunk >= 0) c.ws.send(JSON.stringify({ type: 'skip', chunks: chunks - 1 - c.skipFromChunk, bytes: bytes - ch.bytes.length - c.skipFromBytes }));
      c.skipFromChunk = -1;
      c.state = 'live';
    }
    if (c.state === 'live') c.ws.send(ch.bytes, { binary: true });
  }
}

runPacedSender({
  src, maxS, receipts: str(args, 'receipts'), emit: onChunk, listening: { port: num(args, 'port') },
  report: () => ({ viewers: clients.size, skips }),
  close: () => {
    for (const c of clients) c.ws.terminate();
    wss.close();
  },
});
