// The long RTMP session fuzz run (issue 20): `npm run bench:fuzz -- --sessions N --seconds S --seed X`.
// Sessions come from test/fuzz/rtmp-sessions.ts (the generator `npm test` runs a few thousand of)
// and run in process on one core. Stops at N sessions or S seconds, whichever is first; exits 1
// on any invariant violation, printing the seeds that replay it.
import { execSync } from 'node:child_process';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { sampleTags } from '../../test/helpers/replay-publisher.js';
import { FuzzViolation, generateSession, runSession, sessionSeed } from '../../test/fuzz/rtmp-sessions.js';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '3600' },
    seed: { type: 'string', default: '20' },
    remux: { type: 'string', default: 'true' },
  },
});
const maxSessions = Number(values.sessions);
const maxSeconds = Number(values.seconds);
const seed = Number(values.seed) >>> 0;
const remux = values.remux !== 'false';

const mb = (n: number): string => (n / 2 ** 20).toFixed(1);
const tags = sampleTags();
const donor = generateSession(sessionSeed(seed, 0xffffffff), tags).bytes;
const outcomes = new Map<string, number>();
const flvErrors = new Map<string, number>();
const violations = new Map<string, { n: number; seeds: number[] }>();
let maxHeldPre = 0;
let maxHeldPublishing = 0;
let bytesIn = 0;
const rssStart = process.memoryUsage().rss;
let rssWarm = 0;
let rssMax = rssStart;
let commit = 'unknown';
try { commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
const start = Date.now();
let lastReport = start;
let n = 0;
for (; n < maxSessions; n++) {
  if ((n & 255) === 0) {
    const now = Date.now();
    if (now - start > maxSeconds * 1000) break;
    const rss = process.memoryUsage().rss;
    rssMax = Math.max(rssMax, rss);
    if (n === 10_240) rssWarm = rss;
    if (now - lastReport > 10_000) {
      lastReport = now;
      console.log(`${n} sessions, ${Math.round(n / ((now - start) / 1000))}/s, RSS ${mb(rss)} MiB`);
    }
  }
  const s = generateSession(sessionSeed(seed, n), tags, donor);
  bytesIn += s.bytes.length;
  try {
    const o = runSession(s, { remux });
    const key = o.codes[0] ?? (o.admitted ? 'admitted, no error' : 'no error, not admitted (input ended)');
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    if (o.flvError) flvErrors.set(o.flvError, (flvErrors.get(o.flvError) ?? 0) + 1);
    if (o.admitted) maxHeldPublishing = Math.max(maxHeldPublishing, o.maxHeld);
    else maxHeldPre = Math.max(maxHeldPre, o.maxHeld);
  } catch (err) {
    if (!(err instanceof FuzzViolation)) throw err;
    const key = err.message.replace(/^seed \d+: /, '').split('\n')[0]!.slice(0, 120);
    const v = violations.get(key) ?? { n: 0, seeds: [] };
    v.n++;
    if (v.seeds.length < 5) v.seeds.push(err.seed);
    violations.set(key, v);
  }
}
const secs = (Date.now() - start) / 1000;
const rssEnd = process.memoryUsage().rss;

const sorted = (m: Map<string, number>): string => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${k}: ${v}`).join('\n');
console.log(`
RTMP session fuzz: ${n} sessions in ${secs.toFixed(1)} s (${Math.round(n / secs)}/s), seed ${seed}, remux ${remux ? 'on' : 'off'}
Date ${new Date().toISOString()}, ${cpus()[0]?.model ?? '?'} × ${cpus().length}, Node ${process.version}, commit ${commit}
Bytes fed: ${mb(bytesIn)} MiB
Outcomes (first error code counted, or how the session ended):
${sorted(outcomes)}
Remux (FlvRemuxer behind the feed) refusals: ${flvErrors.size ? `\n${sorted(flvErrors)}` : 'none'}
Max heldBytes: before admission ${maxHeldPre} B (budget: preAdmitBytes), admitted ${maxHeldPublishing} B (budget: 2 × maxMessageBytes + cache)
RSS: start ${mb(rssStart)} MiB, after 10240 sessions ${mb(rssWarm)} MiB, max ${mb(rssMax)} MiB, end ${mb(rssEnd)} MiB
Invariant violations: ${violations.size ? '' : 'none'}${[...violations].map(([k, v]) => `\n  ${v.n} × ${k} (seeds ${v.seeds.join(', ')})`).join('')}`);
process.exit(violations.size ? 1 : 0);
