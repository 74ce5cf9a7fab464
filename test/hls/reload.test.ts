// Blocking playlist reload and preload hints as pure decisions on a simulated clock, and the
// strict parse of their query: table-driven, then fuzzed.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_QUERY, blockTimeoutMs, decidePart, decidePlaylist, parseQuery, type Position } from '../../hls/reload.js';

describe('the query of an /hls/ request', () => {
  it.each([
    ['', {}],
    ['_HLS_msn=17965857772&_HLS_part=3', { msn: 17965857772, part: 3 }],
    ['_HLS_msn=0', { msn: 0 }],
    ['token=eyJzIjoiYSJ9.c2ln', { token: 'eyJzIjoiYSJ9.c2ln' }],
    ['token=a%2Eb', { token: 'a.b' }],
    ['_HLS_msn=5&_HLS_part=0&_HLS_skip=YES', { msn: 5, part: 0 }],
    ['_HLS_skip=v2', {}],
    ['cb=123&x&&y=', {}],
    ['_HLS_msn=9007199254740991', { msn: 9007199254740991 }],
  ])('reads %j as %j', (raw, want) => {
    expect(parseQuery(raw)).toEqual({ ok: true, query: want });
  });

  it.each([
    ['_HLS_part=1', /needs _HLS_msn/],
    ['_HLS_msn=1&_HLS_msn=2', /twice/],
    ['token=a&token=b', /twice/],
    ['_HLS_msn=-1', /decimal integer/],
    ['_HLS_msn=+1', /decimal integer/],
    ['_HLS_msn=01', /decimal integer/],
    ['_HLS_msn=1.5', /decimal integer/],
    ['_HLS_msn=1e3', /decimal integer/],
    ['_HLS_msn=', /decimal integer/],
    ['_HLS_msn', /decimal integer/],
    ['_HLS_msn=9007199254740993', /decimal integer/],
    ['_HLS_msn=99999999999999999', /decimal integer/],
    ['_HLS_part=x&_HLS_msn=1', /decimal integer/],
    ['_HLS_skip=NO', /YES or v2/],
    ['token=', /1 to 1024/],
    [`token=${'a'.repeat(1025)}`, /1 to 1024/],
    ['token=%E0%A4%A', /percent-encoding/],
    [`x=${'a'.repeat(MAX_QUERY)}`, /longer than/],
  ])('refuses %j', (raw, why) => {
    const r = parseQuery(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(why);
  });

  it('never throws, and what it accepts is well-formed, whatever the query (fuzzed)', () => {
    const piece = fc.oneof(
      fc.constantFrom('_HLS_msn', '_HLS_part', '_HLS_skip', 'token', '=', '&', '%', '%2', '%zz', '0', '1', '-', '+', 'YES', 'v2', '.'),
      fc.string({ maxLength: 12 }),
      fc.nat().map(String),
    );
    fc.assert(fc.property(fc.array(piece, { maxLength: 24 }).map((a) => a.join('')), (raw) => {
      const r = parseQuery(raw);
      if (!r.ok) return typeof r.message === 'string' && r.message.length > 0;
      const q = r.query;
      if (q.part !== undefined && q.msn === undefined) return false;
      for (const n of [q.msn, q.part]) if (n !== undefined && !(Number.isSafeInteger(n) && n >= 0)) return false;
      return q.token === undefined || (q.token.length > 0 && q.token.length <= 1024);
    }), { numRuns: 5000 });
  });

  it('reads back what a player writes (fuzzed)', () => {
    fc.assert(fc.property(fc.maxSafeNat(), fc.nat({ max: 1000 }), fc.string({ minLength: 1, maxLength: 200 }), (msn, part, token) => {
      const r = parseQuery(`_HLS_msn=${msn}&_HLS_part=${part}&token=${encodeURIComponent(token)}`);
      return r.ok && r.query.msn === msn && r.query.part === part && r.query.token === token;
    }));
  });
});

// Newest part: part 2 of segment 50; newest complete segment 49.
const POS: Position = { msn: 50, part: 2, completeMsn: 49 };
// The same window right after segment 50 completed at a keyframe (its part 4 was the last).
const DONE: Position = { msn: 50, part: 4, completeMsn: 50 };
const TIMEOUT = blockTimeoutMs(1);

describe('a blocking playlist reload', () => {
  it.each<[string, { msn?: number; part?: number }, Position | null, number, ReturnType<typeof decidePlaylist>]>([
    ['no directives: at once', {}, POS, 0, 'now'],
    ['a part that exists', { msn: 50, part: 1 }, POS, 0, 'now'],
    ['the newest part', { msn: 50, part: 2 }, POS, 0, 'now'],
    ['the next part: waits', { msn: 50, part: 3 }, POS, 0, 'wait'],
    ['an older segment, any part: at once', { msn: 49, part: 99 }, POS, 0, 'now'],
    ['a segment that left the window: at once (the newest playlist answers it)', { msn: 3, part: 0 }, POS, 0, 'now'],
    ['the next segment\'s first part: waits', { msn: 51, part: 0 }, POS, 0, 'wait'],
    ['two segments ahead: waits', { msn: 52, part: 0 }, POS, 0, 'wait'],
    ['three segments ahead: 400', { msn: 53, part: 0 }, POS, 0, 'too-far'],
    ['a part past the last of a complete segment means the next segment\'s first: waits', { msn: 50, part: 5 }, DONE, 0, 'wait'],
    ['segment 50 without a part, while it is being built: waits', { msn: 50 }, POS, 0, 'wait'],
    ['segment 50 without a part, once complete: at once', { msn: 50 }, DONE, 0, 'now'],
    ['the next part after three target durations: 503', { msn: 50, part: 3 }, POS, TIMEOUT, 'timeout'],
    ['just before the timeout: still waits', { msn: 50, part: 3 }, POS, TIMEOUT - 1, 'wait'],
    ['before the first part, no directives: waits for it', {}, null, 0, 'wait'],
    ['before the first part, any msn: waits (nothing to compare it with)', { msn: 999, part: 0 }, null, 0, 'wait'],
    ['before the first part, past the timeout: 503', {}, null, TIMEOUT, 'timeout'],
  ])('%s', (_name, q, pos, waited, want) => {
    expect(decidePlaylist(q, pos, waited, TIMEOUT)).toBe(want);
  });

  it('answers a waiting request as soon as, on a simulated clock, the part it names arrives', () => {
    const events: Array<[number, Position]> = [[0, POS], [200, { msn: 50, part: 3, completeMsn: 49 }], [400, { msn: 50, part: 4, completeMsn: 49 }]];
    const q = { msn: 50, part: 4 };
    const answeredAt = events.find(([t, pos]) => decidePlaylist(q, pos, t, TIMEOUT) !== 'wait')?.[0];
    expect(answeredAt).toBe(400);
  });

  it('times out after three target durations of the playlist', () => {
    expect(blockTimeoutMs(1)).toBe(3000);
    expect(blockTimeoutMs(2)).toBe(6000);
    expect(blockTimeoutMs(0)).toBe(3000);
  });
});

describe('a request for a part', () => {
  const PARTS = { first: 1000, next: 1042 };
  it.each<[string, number, { first: number; next: number } | null, number, ReturnType<typeof decidePart>]>([
    ['held: at once', 1000, PARTS, 0, 'now'],
    ['the newest: at once', 1041, PARTS, 0, 'now'],
    ['the preload hint\'s: waits', 1042, PARTS, 0, 'wait'],
    ['the preload hint\'s, after the timeout: 503', 1042, PARTS, TIMEOUT, 'timeout'],
    ['past the hint: 404, it was never hinted', 1043, PARTS, 0, 'gone'],
    ['before the window: 404', 999, PARTS, 0, 'gone'],
    ['before any part: 404', 0, null, 0, 'gone'],
  ])('%s', (_name, n, parts, waited, want) => {
    expect(decidePart(n, parts, waited, TIMEOUT)).toBe(want);
  });
});
