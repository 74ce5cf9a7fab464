// Our relay, unmodified (relay/relay.ts as shipped), fed the recorded stream in real time
// through its MediaSink.
// Args: --port --source FILE --receipts OUT [--max-s 120] [--config JSON relay overrides]
//       [--diag FILE: log GC pauses and the relay's sweeps there (lib/diag.ts)] [--v8-flags "--trace-gc ..."]
//       [--helpers-nice 19: nice value for every thread of this process but the main one; 0 leaves them]
//
// Process setting: the relay's event loop is one thread, but a Node process has more (V8's
// platform workers for concurrent GC marking/sweeping and compilation, and, under tsx, the
// loader-hooks worker with its own V8 heap). run-one.ts pins the whole process to one core, so
// that work competes with the fan-out loop for it: ~8-9.5 s after start V8's memory reducer
// runs a GC of the (idle) loader isolate on the workers, ~70 ms of CPU in bursts, which took
// the main thread's core for up to 25-35 ms inside a 4000-viewer send loop, every run, inside
// the window (bench/RESULTS.md, Fan-out). At nice 19 those threads run in the core's idle time
// instead of preempting the loop; V8's own GC policy is unchanged.
import v8 from 'node:v8';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { loadConfig } from '../../../app/config.js';
import { createRootLogger } from '../../../app/log.js';
import { Relay } from '../../../relay/relay.js';
import { Stream } from '../../../relay/stream.js';
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
if (helpersNice) {
  // Threads created later inherit the main thread's nice (0); the ones that exist now are
  // V8's platform workers, libuv's and the loader-hooks worker.
  for (const tid of readdirSync('/proc/self/task').map(Number)) {
    if (tid !== process.pid) { try { setPriority(tid, helpersNice); } catch { /* not Linux, or gone */ } }
  }
}
const relayOverrides = args.config ? JSON.parse(args.config) as Record<string, unknown> : {};
const cfg = loadConfig({ relay: relayOverrides }, {});
const relay = new Relay({ config: cfg.relay, log: createRootLogger('silent'), playerDir: '/nonexistent-player-dir' });
const port = await relay.listen('127.0.0.1', num(args, 'port'));
const sink = relay.sink('bench');
sink.init(src.init);
runPacedSender({
  src, maxS, receipts: str(args, 'receipts'), emit: (c) => sink.chunk(c),
  listening: { port, config: cfg.relay, helpersNice },
  report: () => {
    const s = relay.stream('bench');
    return { counters: s?.counters ?? null, viewers: s?.viewerCount ?? 0, badMessages: relay.badMessages };
  },
  close: () => relay.close(),
});
