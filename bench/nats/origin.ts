// bench:nats origin process: S copies of the recorded stream, paced in real time (one chunk
// per stream every 33.3 ms), published through ClusterOrigin with no local relay; or, with
// --tcp-ports, the same frames written straight to each edge over TCP (the floor, tcp.ts).
// Args: --streams S --source FILE --seconds N [--aligned], and --nats URL | --tcp-ports P,P,P
// Streams are staggered across the frame interval, as independent encoders are; --aligned
// publishes every stream's frame at the same instant (the worst case: one burst of S frames).
import { parseArgs } from 'node:util';
import { createRootLogger } from '../../util/log.js';
import { NatsLink, wallMs } from '../../cluster/link.js';
import { ClusterOrigin } from '../../cluster/origin.js';
import { names } from '../../cluster/subjects.js';
import { encodeChunk } from '../../cluster/wire.js';
import type { Chunk } from '../../media/types.js';
import type { MediaSink } from '../../media/sink.js';
import { CHUNK_MS, loadSource } from '../fanout/lib/source.js';
import { frameSenders } from './tcp.js';

const { values } = parseArgs({ options: { nats: { type: 'string' }, 'tcp-ports': { type: 'string' }, streams: { type: 'string' }, source: { type: 'string' }, seconds: { type: 'string' }, aligned: { type: 'boolean' } } });
const S = Number(values.streams);
const seconds = Number(values.seconds);
const src = loadSource(values.source!);

let publish: (stream: number, c: Chunk, seq: number) => void;
let close: () => Promise<void>;
if (values['tcp-ports']) {
  const out = await frameSenders(values['tcp-ports'].split(',').map(Number));
  publish = (_i, c, seq) => out.send(encodeChunk(c, 1, seq, wallMs()));
  close = async () => out.close();
} else {
  const log = createRootLogger('warn');
  const nothing: MediaSink = { init: () => {}, chunk: () => {}, failure: () => {}, offline: () => {} };
  const n = names('bench');
  const link = new NatsLink({ servers: [values.nats!], name: 'bench origin', bucket: n.bucket, retryMs: 100 }, log);
  const origin = new ClusterOrigin({ sink: () => nothing }, link, n, 2 * 1024 * 1024, log);
  await new Promise<void>((r) => link.on('up', r));
  const sinks = Array.from({ length: S }, (_, i) => origin.sink(`s${i}`));
  for (const s of sinks) s.init(src.init);
  publish = (i, c) => sinks[i]!.chunk(c);
  close = async () => { await origin.close(); await link.close(); };
}
process.send?.({ type: 'ready' });

// Paced on absolute time, so a late tick catches up instead of drifting. Event j is frame
// floor(j / S) of stream j % S, due at t0 + frame·interval + stream·phase.
const t0 = performance.now();
const end = t0 + seconds * 1000;
const phase = values.aligned ? 0 : CHUNK_MS / S;
const due = (j: number): number => t0 + Math.floor(j / S) * CHUNK_MS + (j % S) * phase;
let j = 0;
let k = 0;
const tick = (): void => {
  const now = performance.now();
  while (due(j) <= now) {
    const frame = Math.floor(j / S);
    publish(j % S, src.chunks[frame % src.chunks.length]!, frame + 1);
    j++;
    k = frame + 1;
  }
  if (now < end) setTimeout(tick, Math.max(0, due(j) - performance.now()));
  else void close().then(() => process.send?.({ type: 'done', chunks: k }, undefined, {}, () => process.exit(0)));
};
tick();
