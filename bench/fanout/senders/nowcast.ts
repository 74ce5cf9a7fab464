// Our relay, unmodified (relay/relay.ts as shipped), fed the recorded stream in real time
// through its MediaSink.
// Args: --port --source FILE --receipts OUT [--max-s 120] [--config JSON relay overrides]
import { loadConfig } from '../../../app/config.js';
import { createRootLogger } from '../../../app/log.js';
import { Relay } from '../../../relay/relay.js';
import { emitEvent, num, onStop, parseArgs, str } from '../lib/control.js';
import { Pacer } from '../lib/pacer.js';
import { loadSource } from '../lib/source.js';

const args = parseArgs();
const maxS = num(args, 'max-s', 120);
const src = loadSource(str(args, 'source'));
const relayOverrides = args.config ? JSON.parse(args.config) as Record<string, unknown> : {};
const cfg = loadConfig({ relay: relayOverrides }, {});
const relay = new Relay({ config: cfg.relay, log: createRootLogger('silent'), playerDir: '/nonexistent-player-dir' });
const port = await relay.listen('127.0.0.1', num(args, 'port'));
const sink = relay.sink('bench');
sink.init(src.init);
const pacer = new Pacer(src, maxS, (c) => sink.chunk(c));
pacer.start();
emitEvent('listening', { port, pid: process.pid, config: cfg.relay });
emitEvent('live');

onStop(maxS, (why) => {
  pacer.stop();
  const s = relay.stream('bench');
  pacer.receipts.write(str(args, 'receipts'));
  emitEvent('stopped', { why, chunks: pacer.count, counters: s?.counters ?? null, viewers: s?.viewerCount ?? 0, badMessages: relay.badMessages });
  relay.close();
  setTimeout(() => process.exit(0), 50);
});
