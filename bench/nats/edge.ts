// bench:nats edge process. With --nats: a ClusterEdge subscribed to S streams (as if each had a
// viewer), feeding counting sinks. With --tcp: the floor, frames straight from the origin over
// plain TCP (tcp.ts). Either way it records every frame's hop (origin publish → here).
// Args: --nats URL --streams S | --tcp
import { parseArgs } from 'node:util';
import { createRootLogger } from '../../util/log.js';
import { NatsLink, wallMs } from '../../cluster/link.js';
import { ClusterEdge } from '../../cluster/edge.js';
import { names } from '../../cluster/subjects.js';
import type { MediaSink } from '../../media/sink.js';
import { listenFrames } from './tcp.js';

const { values } = parseArgs({ options: { nats: { type: 'string' }, streams: { type: 'string' }, tcp: { type: 'boolean' } } });
const hops: number[] = [];
let recording = false;
let chunks = 0;
let gaps = 0;
let close = async (): Promise<void> => {};

if (values.tcp) {
  const port = await listenFrames((f) => {
    if (f.kind === 'chunk') chunks++;
    if (recording) hops.push(wallMs() - f.sentAt);
  });
  process.send?.({ type: 'ready', port });
} else {
  const log = createRootLogger('warn');
  const sink: MediaSink = { init: () => {}, chunk: () => { chunks++; }, failure: () => {}, offline: () => {} };
  const n = names('bench');
  const link = new NatsLink({ servers: [values.nats!], name: 'bench edge', bucket: n.bucket, retryMs: 100 }, log);
  const edge = new ClusterEdge({ sink: () => sink }, link, n, { lingerMs: 60_000, snapshotTimeoutMs: 1000, onHop: (ms) => { if (recording) hops.push(ms); } }, log);
  await new Promise<void>((r) => link.on('up', r));
  for (let i = 0; i < Number(values.streams); i++) edge.viewers(`s${i}`, 1);
  close = async () => {
    gaps = edge.counters.gaps;
    edge.close();
    await link.close();
  };
  process.send?.({ type: 'ready' });
}

process.on('message', (m: { type: string }) => {
  if (m.type === 'start') {
    recording = true;
    chunks = 0;
  } else if (m.type === 'stop') {
    recording = false;
    void close().then(() => {
      // Exit only once the (large) message has left: process.exit would cut the IPC write short.
      process.send?.({ type: 'done', hops, chunks, gaps }, undefined, {}, () => process.exit(0));
    });
  }
});
