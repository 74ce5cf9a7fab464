// Operations' slices of the configuration (app/config.ts composes them; docs/configuration.md lists them).

export interface OpsConfig {
  /** Address of the operations listener (/metrics, /api/streams, /dashboard, /livez, /readyz). */
  host: string;
  /** Its port; 0 picks a free port. */
  port: number;
  /** Bearer token the operations listener requires (Authorization: Bearer …); '' requires none.
   *  Required when ops.host is not a loopback address. */
  token: string;
  /** Nice value (0–19) of the operations listener's own thread (ops/ops-thread.ts): above the
   *  relay's 0, a flood of operations requests yields the CPU to fan-out even on 2 cores.
   *  relay.helperThreadsNice leaves this thread alone. */
  nice: number;
}

export interface MetricsConfig {
  /** Serve /metrics (Prometheus, ops/metrics.ts) on the operations listener; off, /metrics answers 404. */
  enabled: boolean;
  /** The first N streams that publish get their own `stream` label; later ones share `_other`. */
  maxStreamLabels: number;
  /** Also export prom-client's process_* and nodejs_* metrics (CPU, memory, event loop lag, GC). */
  processMetrics: boolean;
}
