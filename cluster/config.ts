// The cluster's slice of the configuration (app/config.ts composes it; docs/configuration.md lists it).

/** What a node does in a cluster (cluster.role). */
export const ROLES = ['all-in-one', 'ingest-only', 'edge-only'] as const;
export type Role = (typeof ROLES)[number];

export interface ClusterConfig {
  /** 'all-in-one': one node, no NATS. 'ingest-only': takes publishers, serves its own viewers
   *  and publishes every stream to NATS. 'edge-only': no RTMP/SRT; serves viewers with streams
   *  fetched from NATS while it has viewers for them. See docs/scaling.md. */
  role: Role;
  /** NATS server URLs (ingest-only and edge-only). */
  natsServers: string[];
  /** Subject prefix and KV bucket name (`PREFIX_streams`): clusters can share one NATS. */
  prefix: string;
  /** An edge keeps a stream subscribed this long after its last viewer leaves, so a viewer
   *  who reloads the page finds it warm. */
  lingerMs: number;
  /** An edge waits this long for the origin's snapshot (init + cached GOP) before falling back
   *  to the KV and the next keyframe. */
  snapshotTimeoutMs: number;
  /** Delay between NATS connection attempts. */
  retryMs: number;
}
