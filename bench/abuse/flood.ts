// Worker: the operations flood (48 keep-alive clients on the ops port alternating /metrics and
// /api/streams) and a public-page flood (`/` and `/streams.json`), until `ms` has passed.
import { parentPort, workerData } from 'node:worker_threads';

export interface FloodReply { type: 'flood'; byTarget: Record<string, { codes: Record<string, number>; errors: number }> }

const { ops, http, opsClients, publicClients, ms } = workerData as { ops: string; http: string; opsClients: number; publicClients: number; ms: number };
const end = Date.now() + ms;
const byTarget: FloodReply['byTarget'] = {};

async function client(urls: string[], k: number): Promise<void> {
  // Bounded in time and count: at most a million requests per client.
  for (let i = k; i < k + 1_000_000 && Date.now() < end; i++) {
    const url = urls[i % urls.length]!;
    const t = (byTarget[new URL(url).host === new URL(ops).host ? `ops ${new URL(url).pathname}` : `public ${new URL(url).pathname}`] ??= { codes: {}, errors: 0 });
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      t.codes[r.status] = (t.codes[r.status] ?? 0) + 1;
    } catch {
      t.errors++;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

await Promise.all([
  ...Array.from({ length: opsClients }, (_, k) => client([`${ops}/metrics`, `${ops}/api/streams`], k)),
  ...Array.from({ length: publicClients }, (_, k) => client([`${http}/`, `${http}/streams.json`], k)),
]);
parentPort!.postMessage({ type: 'flood', byTarget } satisfies FloodReply);
