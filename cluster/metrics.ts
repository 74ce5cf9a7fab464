// Cluster metrics on the node's /metrics registry, pull-based like ops/metrics.ts: a scrape
// reads the link's, the origin's and the edge's counters; nothing runs per frame.
import { Counter, Gauge, type Registry } from 'prom-client';
import { percentile } from '../util/stats.js';
import type { NatsLink } from './link.js';
import type { ClusterOrigin } from './origin.js';
import type { ClusterEdge } from './edge.js';

export function registerClusterMetrics(registry: Registry, role: string, link: NatsLink, origin: ClusterOrigin | null, edge: ClusterEdge | null): void {
  const registers = [registry];
  new Gauge({
    name: 'nowcast_cluster_nats_connected', help: 'This node\'s NATS connection is up (1) or not (0).', labelNames: ['role'], registers,
    collect() { this.set({ role }, link.connected ? 1 : 0); },
  });
  new Counter({
    name: 'nowcast_cluster_nats_losses_total', help: 'Times the NATS connection went down after being up.', registers,
    collect() { this.reset(); this.inc(link.losses); },
  });
  if (origin) {
    new Counter({
      name: 'nowcast_cluster_published_frames_total', help: 'Frames (init, chunk, state) this ingest node published, or could not.',
      labelNames: ['result'], registers,
      collect() {
        const c = origin.counters;
        this.reset();
        this.inc({ result: 'published' }, c.frames);
        this.inc({ result: 'nats_down' }, c.unpublished);
        this.inc({ result: 'oversize' }, c.oversize);
      },
    });
    new Counter({
      name: 'nowcast_cluster_published_bytes_total', help: 'Bytes this ingest node published to NATS.', registers,
      collect() { this.reset(); this.inc(origin.counters.bytes); },
    });
    new Counter({
      name: 'nowcast_cluster_snapshots_total', help: 'Snapshots (init, state, cached GOP) this ingest node sent to edges.', registers,
      collect() { this.reset(); this.inc(origin.counters.snapshots); },
    });
  }
  if (edge) {
    new Gauge({
      name: 'nowcast_cluster_subscribed_streams', help: 'Streams this edge is subscribed to (it has, or just had, viewers for them).', registers,
      collect() { this.set(edge.subscribed.length); },
    });
    new Counter({
      name: 'nowcast_cluster_received_bytes_total', help: 'Bytes this edge received from NATS.', registers,
      collect() { this.reset(); this.inc(edge.counters.bytes); },
    });
    new Counter({
      name: 'nowcast_cluster_events_total',
      help: 'Edge events: sync (snapshot fetched), fallback (no snapshot in time, KV used), gap (hole in a sequence: viewers re-synced at a keyframe), bad_frame.',
      labelNames: ['event'], registers,
      collect() {
        const c = edge.counters;
        this.reset();
        this.inc({ event: 'sync' }, c.syncs);
        this.inc({ event: 'fallback' }, c.fallbacks);
        this.inc({ event: 'gap' }, c.gaps);
        this.inc({ event: 'bad_frame' }, c.badFrames);
      },
    });
    new Gauge({
      name: 'nowcast_cluster_hop_seconds', help: 'NATS hop (origin publish → this edge) over the last 4096 frames, by quantile.', labelNames: ['quantile'], registers,
      collect() {
        const n = Math.min(edge.hopCount, edge.hop.length);
        this.reset();
        if (!n) return;
        const xs = Array.from(edge.hop.subarray(0, n)).sort((a, b) => a - b);
        for (const q of [50, 99]) this.set({ quantile: String(q / 100) }, percentile(xs, q) / 1000);
      },
    });
  }
}
