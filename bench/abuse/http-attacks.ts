// The HTTP and WebSocket attackers of the abuse bench: viewers of names that are not live held
// open (and a real publisher trying to publish meanwhile), the operations flood, forged QoE.
import WebSocket from 'ws';
import { ReplayPublisher } from '../../test/helpers/replay-publisher.js';
import { attackLoop, nextMessage, sleep, tally, tsWorker } from './lib.js';
import type { AttackContext } from './rtmp-attacks.js';
import type { FloodReply } from './flood.js';

/**
 * (5) `n` WebSocket viewers of names nobody publishes, opened in batches and held; once they
 * are all waiting, a publisher of a new name tries to publish (issue 20, finding 5).
 */
export async function waitingViewers(x: AttackContext, n = 1000): Promise<void> {
  const ends: Array<Promise<string>> = [];
  const sockets: WebSocket[] = [];
  for (let i = 0; i < n && Date.now() < x.endAt; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${x.httpPort}/live/ghost-${i}`);
    sockets.push(ws);
    ends.push(new Promise<string>((resolve) => {
      let opened = false;
      ws.on('open', () => { opened = true; });
      ws.on('unexpected-response', (_req, res) => { resolve(`refused at upgrade (HTTP ${res.statusCode})`); ws.terminate(); });
      ws.on('error', () => { if (!opened) resolve('connection error'); });
      ws.on('message', (d: Buffer, bin: boolean) => {
        if (bin) return;
        const m = JSON.parse(d.toString()) as { type: string; code?: string };
        if (m.type === 'error') resolve(`closed by server (${m.code ?? 'error'})`);
      });
      ws.on('close', (code) => resolve(opened ? `closed by server (WebSocket ${code})` : 'closed before open'));
    }));
    if (i % 50 === 49) await sleep(100);
  }
  // The publisher: admitted while the waiting viewers are held? A few tries, since the idle
  // attacker may hold every RTMP connection slot for a moment.
  await sleep(1_000);
  for (let k = 0; k < 3 && Date.now() < x.endAt; k++) {
    for (let attempt = 0; attempt < 10 && Date.now() < x.endAt; attempt++) {
      const p = new ReplayPublisher(x.rtmpPort, `late-${k}`);
      const until = Date.now() + 4_000;
      while (!p.admitted && !p.rtmp.closed && Date.now() < until) await sleep(20);
      const codes = p.rtmp.statusCodes().join('+');
      p.stop();
      if (p.admitted) { tally(x.t, 'publisher while 1000 wait', 'admitted'); break; }
      tally(x.t, 'publisher while 1000 wait', `not admitted: ${codes || 'closed before a reply (connection cap?)'}`);
      await sleep(500);
    }
    await sleep(5_000);
  }
  // Held to the end of the run: anything that ended earlier has resolved with its reason.
  await sleep(Math.max(0, x.endAt - Date.now()));
  for (const [i, e] of ends.entries()) {
    const ending = await Promise.race([e, Promise.resolve('held open to the end')]);
    tally(x.t, `${n} viewers of unpublished names`, ending);
    sockets[i]!.terminate();
  }
}

/** (7) The operations flood and the public-page flood, in a worker. */
export async function opsFlood(x: AttackContext, opsClients = 48, publicClients = 16): Promise<FloodReply['byTarget']> {
  const ms = Math.max(0, x.endAt - Date.now());
  const w = tsWorker(new URL('./flood.ts', import.meta.url), {
    ops: `http://127.0.0.1:${x.opsPort}`, http: `http://127.0.0.1:${x.httpPort}`, opsClients, publicClients, ms,
  });
  try {
    const r = await nextMessage(w, (m): m is FloodReply => (m as FloodReply).type === 'flood', ms + 30_000);
    for (const [target, c] of Object.entries(r.byTarget)) {
      for (const [code, k] of Object.entries(c.codes)) tally(x.t, `flood ${target}`, `HTTP ${code}`, k);
      if (c.errors) tally(x.t, `flood ${target}`, 'connection error', c.errors);
    }
    return r.byTarget;
  } finally {
    await w.terminate();
  }
}

const report = (o: Partial<Record<string, number | boolean | string | null>>): string => JSON.stringify({
  type: 'qoe', intervalMs: 1000, startupMs: 300, latencyP50Ms: 150, latencyP95Ms: 200, latencyP99Ms: 250, latencyMs: 160, targetMs: 130,
  stalls: 0, stallMs: 0, rateChanges: 0, jumps: 0, droppedFrames: 0, rate: 1, policy: 'nowcast', pinned: false, clockOffsetMs: 0, ...o,
});

/**
 * (8) Forged QoE on `healthy`: one viewer cycling through totals that go down, absurd counts,
 * ten-minute latencies and more stall time than wall time, every 250 ms (so the rate limit is
 * hit too); and a viewer that reconnects to send, each time, the largest totals a new viewer
 * may claim. Nowcast_qoe_stalls_total{stream="healthy"} at the end says what got through.
 */
export async function forgedQoe(x: AttackContext): Promise<void> {
  const forger = async (): Promise<void> => {
    const ws = new WebSocket(`ws://127.0.0.1:${x.httpPort}/live/healthy`);
    ws.on('error', () => { /* tallied below */ });
    const opened = await Promise.race([new Promise<boolean>((r) => ws.once('open', () => r(true))), sleep(5_000).then(() => false)]);
    if (!opened) { tally(x.t, 'forged QoE (one viewer)', 'could not connect'); ws.terminate(); return; }
    const variants = [
      (k: number): string => report({ stalls: k, stallMs: k * 10 }),
      (): string => report({ stalls: 0, stallMs: 0 }),
      (): string => report({ stalls: 2_000_000_000, stallMs: 1e9 }),
      (k: number): string => report({ stalls: k, stallMs: k * 10, latencyMs: 600_000, latencyP50Ms: 600_000, latencyP95Ms: 600_000, latencyP99Ms: 600_000 }),
      (k: number): string => report({ stalls: k, stallMs: 10_000_000 }),
    ];
    for (let i = 0; i < 100_000 && Date.now() < x.endAt && ws.readyState === WebSocket.OPEN; i++) {
      ws.send(variants[i % variants.length]!(i));
      tally(x.t, 'forged QoE (one viewer)', ['plausible, growing', 'totals down', '2·10⁹ stalls', '10-minute latency', 'stall time > wall time'][i % variants.length]!);
      await sleep(250);
    }
    ws.terminate();
  };
  const reconnecting = attackLoop(x.t, 'forged QoE (reconnecting viewer)', { endAt: x.endAt, maxIterations: 1_000, concurrency: 1, pauseMs: 200 }, async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${x.httpPort}/live/healthy`);
    ws.on('error', () => { /* ends below */ });
    try {
      const opened = await Promise.race([new Promise<boolean>((r) => ws.once('open', () => r(true))), sleep(3_000).then(() => false)]);
      if (!opened) return 'could not connect';
      // A new viewer may claim 60 s of history: 5 stalls a second, 1000 ms of stall a second.
      ws.send(report({ stalls: 300, stallMs: 59_000 }));
      await sleep(100);
      return 'sent the largest plausible totals';
    } finally {
      ws.terminate();
    }
  });
  await Promise.all([forger(), reconnecting]);
}
