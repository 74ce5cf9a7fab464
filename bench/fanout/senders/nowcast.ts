// Our relay, unmodified (relay/relay.ts as shipped), fed the recorded stream in real time
// through its MediaSink.
// Args: --port --source FILE --receipts OUT [--max-s 120] [--config JSON relay overrides]
import { loadConfig } from '../../../app/config.js';
import { createRootLogger } from '../../../app/log.js';
import { Relay } from '../../../relay/relay.js';
import { num, parseArgs, str } from '../lib/control.js';
import { runPacedSender } from '../lib/pacer.js';
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
runPacedSender({
  src, maxS, receipts: str(args, 'receipts'), emit: (c) => sink.chunk(c),
  listening: { port, config: cfg.relay },
  report: () => {
    const s = relay.stream('bench');
    return { counters: s?.counters ?? null, viewers: s?.viewerCount ?? 0, badMessages: relay.badMessages };
  },
  close: () => relay.close(),
});
