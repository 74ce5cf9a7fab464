// bench:nats origin process: S copies of the recorded stream published through ClusterOrigin,
// paced in real time (one chunk per stream every 33.3 ms), with no local relay.
// Args: --nats URL --streams S --source FILE --seconds N
import { parseArgs } from 'node:util';
import { createRootLogger } from '../../app/log.js';
import { NatsLink } from '../../cluster/link.js';
import { ClusterOrigin } from '../../cluster/origin.js';
import { names } from '../../cluster/subjects.js';
import type { MediaSink, SinkProvider } from '../../ingest/sink.js';
import { CHUNK_MS, loadSource } from '../fanout/lib/source.js';

const { values } = parseArgs({ options: { nats: { type: 'string' }, streams: { type: 'string' }, source: { type: 'string' }, seconds: { type: 'string' } } });
const S = Number(values.streams);
const seconds = Number(values.seconds);
const src = loadSource(values.source!);
const log = createRootLogger('warn');
const nothing: MediaSink = { init: () => {}, chunk: () => {}, failure: () => {}, offline: () => {} };
const local: SinkProvider = { sink: () => nothing };
const n = names('bench');
const link = new NatsLink({ servers: [values.nats!], name: 'bench origin', bucket: n.bucket, retryMs: 100 }, log);
const origin = new ClusterOrigin(local, link, n, 2 * 1024 * 1024, log);
await new Promise<void>((r) => link.on('up', r));
const sinks = Array.from({ length: S }, (_, i) => origin.sink(`s${i}`));
for (const s of sinks) s.init(src.init);
process.send?.({ type: 'ready' });

// Paced on absolute time, so a late tick catches up instead of drifting.
const t0 = performance.now();
let k = 0;
const end = t0 + seconds * 1000;
const tick = (): void => {
  const now = performance.now();
  while (t0 + k * CHUNK_MS <= now) {
    const c = src.chunks[k % src.chunks.length]!;
    for (const s of sinks) s.chunk(c);
    k++;
  }
  if (now < end) setTimeout(tick, Math.max(0, t0 + k * CHUNK_MS - performance.now()));
  else void origin.close().then(() => link.close()).then(() => {
    process.send?.({ type: 'done', chunks: k, counters: origin.counters }, undefined, {}, () => process.exit(0));
  });
};
tick();
