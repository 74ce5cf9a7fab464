// bench:nats edge process: a ClusterEdge subscribed to S streams (as if each had a viewer),
// feeding counting sinks; records every frame's hop (origin publish → edge callback).
// Args: --nats URL --streams S
import { parseArgs } from 'node:util';
import { createRootLogger } from '../../app/log.js';
import { NatsLink } from '../../cluster/link.js';
import { ClusterEdge } from '../../cluster/edge.js';
import { names } from '../../cluster/subjects.js';
import type { MediaSink, SinkProvider } from '../../ingest/sink.js';

const { values } = parseArgs({ options: { nats: { type: 'string' }, streams: { type: 'string' } } });
const S = Number(values.streams);
const log = createRootLogger('warn');
let chunks = 0;
let inits = 0;
const sink: MediaSink = { init: () => { inits++; }, chunk: () => { chunks++; }, failure: () => {}, offline: () => {} };
const sinks: SinkProvider = { sink: () => sink };
const n = names('bench');
const hops: number[] = [];
let recording = false;
const link = new NatsLink({ servers: [values.nats!], name: 'bench edge', bucket: n.bucket, retryMs: 100 }, log);
const edge = new ClusterEdge(sinks, link, n, { lingerMs: 60_000, snapshotTimeoutMs: 1000, onHop: (ms) => { if (recording) hops.push(ms); } }, log);
await new Promise<void>((r) => link.on('up', r));
for (let i = 0; i < S; i++) edge.viewers(`s${i}`, 1);
process.send?.({ type: 'ready' });
process.on('message', (m: { type: string }) => {
  if (m.type === 'start') {
    recording = true;
    chunks = 0;
  } else if (m.type === 'stop') {
    recording = false;
    edge.close();
    // Exit only once the (large) message has left: process.exit would cut the IPC write short.
    process.send?.({ type: 'done', hops, chunks, inits, counters: edge.counters, gaps: edge.counters.gaps }, undefined, {}, () => {
      void link.close().then(() => process.exit(0));
    });
  }
});
