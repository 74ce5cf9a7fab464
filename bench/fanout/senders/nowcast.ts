// Our relay, unmodified (relay/relay.ts as shipped), fed the recorded stream in real time
// through its MediaSink.
// Args: --port --source FILE --receipts OUT [--max-s 120] [--config JSON relay overrides]
//       [--diag FILE: log GC pauses and the relay's sweeps there (lib/diag.ts)] [--v8-flags "--trace-gc ..."]
//       [--helpers-nice 19: nice value for every thread of this process but the main one; 0 leaves them]
//
// Process setting: run-one.ts pins the whole process to one core, so V8's helper threads compete
// with the fan-out loop for it; they run at nice 19, as `relay.helperThreadsNice: 19` does in the
// app (util/threads.ts says why).
import v8 from 'node:v8';
import { loadConfig } from '../../../app/config.js';
import { createRootLogger } from '../../../util/log.js';
import { Relay } from '../../../relay/relay.js';
import { Stream } from '../../../relay/stream.js';
import { niceHelperThreads } from '../../../util/threads.js';
import { startSenderDiag } from '../lib/diag.js';
import { num, parseArgs, str } from '../lib/control.js';
import { runPacedSender } from '../lib/pacer.js';
import { loadSource } from '../lib/source.js';

const args = parseArgs();
const maxS = num(args, 'max-s', 120);
const src = loadSource(str(args, 'source'));
if (args['v8-flags']) v8.setFlagsFromString(args['v8-flags']);
if (args.diag) {
  const diag = startSenderDiag(args.diag);
  Stream.prototype.sweep = diag.time('sweep', Stream.prototype.sweep);
}
const helpersNice = num(args, 'helpers-nice', 19);
// The shipped setting (config relay.helperThreadsNice, util/threads.ts), applied the same way.
if (helpersNice) niceHelperThreads(helpersNice);
const relayOverrides = args.config ? JSON.parse(args.config) as Record<string, unknown> : {};
const cfg = loadConfig({ relay: relayOverrides }, {});
const relay = new Relay({ config: cfg.relay, log: createRootLogger('silent'), service: () => cfg.latency.default });
const port = await relay.listen('127.0.0.1', num(args, 'port'));
const sink = relay.sink('bench');
sink.init(src.init);
runPacedSender({
  src, maxS, receipts: str(args, 'receipts'), emit: (c) => sink.chunk(c),
  listening: { port, config: cfg.relay, helpersNice },
  report: () => {
    const s = relay.stream('bench');
    return { counters: s?.counters ?? null, viewers: s?.viewerCount ?? 0, badMessages: relay.badMessages, skipsByRule: relay.skipsByRule, staleAcks: relay.staleAcks };
  },
  close: () => relay.close(),
});
