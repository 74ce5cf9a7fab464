// The abuse bench's attackers, as their own process (started by run.ts under `nice`, so on a
// two-core machine the load generator's CPU does not stand in for the server's): every hostile
// case of issue 20 at once, in loops bounded in count and time, to 127.0.0.1 only. Prints one
// JSON line (`{"attackers":…}`) with how every connection ended.
//   tsx bench/abuse/attackers.ts --rtmp-port P --http-port P --ops-port P --seconds 60 [--only crash,idle,…]
import { parseArgs } from 'node:util';
import { sampleTags } from '../../test/helpers/replay-publisher.js';
import { tally, type Tallies } from './lib.js';
import * as R from './rtmp-attacks.js';
import * as H from './http-attacks.js';
import type { FloodReply } from './flood.js';

export interface AttackersReport {
  tallies: Tallies;
  storm: { stormViewerInits: number; bursts: number };
  flood: FloodReply['byTarget'];
  seconds: number;
}

const { values } = parseArgs({ options: {
  'rtmp-port': { type: 'string' }, 'http-port': { type: 'string' }, 'ops-port': { type: 'string' }, seconds: { type: 'string', default: '60' },
  only: { type: 'string', default: '' },
} });
const seconds = Math.min(3_600, Number(values.seconds));
sampleTags(); // made once with FFmpeg before the clock starts
process.stdout.write(`${JSON.stringify({ start: Date.now() })}\n`);
const x: R.AttackContext = {
  rtmpPort: Number(values['rtmp-port']), httpPort: Number(values['http-port']), opsPort: Number(values['ops-port']),
  endAt: Date.now() + seconds * 1000, t: {},
};
// ReplayPublisher's handshake rejects unhandled when the connection cap refuses it: that is
// the server's answer, not a bench fault, so it is counted instead of ending this process.
process.on('unhandledRejection', (err) => {
  if (err instanceof Error && err.message.startsWith('timed out waiting for')) tally(x.t, 'helper timeouts', err.message);
  else throw err;
});
const none = async (): Promise<void> => {};
// --only crash,hijack,…: one or a few attackers alone, to see which one costs what.
const only = new Set(values.only ? values.only.split(',') : []);
const on = (k: string): boolean => only.size === 0 || only.has(k);
const t0 = Date.now();
const [storm, flood] = await Promise.all([
  on('storm') ? R.headerStorm(x) : Promise.resolve({ stormViewerInits: 0, bursts: 0 }),
  on('flood') ? H.opsFlood(x) : Promise.resolve({}),
  on('crash') ? R.crashPackets(x) : none(), on('hijack') ? R.hijacks(x) : none(), on('declared') ? R.declaredHuge(x) : none(),
  on('idle') ? R.idleHolders(x) : none(), on('garbage-hs') ? R.garbageAfterHandshake(x) : none(),
  on('refused') ? R.refusedReconnecting(x) : none(), on('waiting') ? H.waitingViewers(x) : none(),
  on('qoe') ? H.forgedQoe(x) : none(), on('bigapp') ? R.hugeApp(x) : none(), on('garbage') ? R.garbage(x) : none(),
]);
const report: AttackersReport = { tallies: x.t, storm, flood, seconds: (Date.now() - t0) / 1000 };
process.stdout.write(`${JSON.stringify({ attackers: report })}\n`);
process.exit(0);
