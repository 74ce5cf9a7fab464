import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_STREAMID_CHARS, parseStreamId } from '../../../ingest/srt/streamid.js';

describe('the SRT streamid parser', () => {
  it.each([
    ['an empty streamid as the port\'s stream', '', { name: undefined, key: undefined, user: undefined }],
    ['the access-control form', '#!::r=cam1,m=publish', { name: 'cam1', key: undefined, user: undefined }],
    ['the access-control form in any key order', '#!::m=publish,r=cam1', { name: 'cam1', key: undefined, user: undefined }],
    ['a key in s=', '#!::r=cam1,m=publish,u=ann,s=secret', { name: 'cam1', key: 'secret', user: 'ann' }],
    ['a token in t=', '#!::r=cam1,m=publish,t=abc.def', { name: 'cam1', key: 'abc.def', user: undefined }],
    ['t=stream as the spec\'s type, not a key', '#!::r=cam1,m=publish,t=stream', { name: 'cam1', key: undefined, user: undefined }],
    ['MediaMTX\'s short form', 'publish:cam1', { name: 'cam1', key: undefined, user: undefined }],
    ['the short form with user and key', 'publish:cam1:ann:secret', { name: 'cam1', key: 'secret', user: 'ann' }],
    ['the short form with ?token=', 'publish:cam1?token=abc.def', { name: 'cam1', key: 'abc.def', user: undefined }],
    ['a percent-encoded access-control form (FFmpeg passes URLs undecoded)', '%23!%3A%3Ar%3Dcam1%2Cm%3Dpublish', { name: 'cam1', key: undefined, user: undefined }],
    ['a percent-encoded short form', 'publish%3Acam1', { name: 'cam1', key: undefined, user: undefined }],
  ])('reads %s', (_what, raw, want) => {
    expect(parseStreamId(raw)).toEqual(want);
  });

  it.each([
    ['a streamid over 512 characters', `publish:${'a'.repeat(MAX_STREAMID_CHARS)}`, 'STREAMID_INVALID'],
    ['control characters', 'publish:cam\n1', 'STREAMID_INVALID'],
    ['a bare name', 'cam1', 'STREAMID_INVALID'],
    ['no r=', '#!::m=publish', 'STREAMID_INVALID'],
    ['an item without =', '#!::r=cam1,m=publish,junk', 'STREAMID_INVALID'],
    ['a key given twice', '#!::r=a,r=b,m=publish', 'STREAMID_INVALID'],
    ['no m= (the spec\'s default is to play)', '#!::r=cam1', 'STREAMID_MODE'],
    ['m=request', '#!::r=cam1,m=request', 'STREAMID_MODE'],
    ['MediaMTX\'s read form', 'read:cam1', 'STREAMID_MODE'],
    ['an empty short-form name', 'publish:', 'STREAMID_INVALID'],
    ['a short form with two colons', 'publish:a:b', 'STREAMID_INVALID'],
    ['a bad percent-encoding', 'publish%3A%zz', 'STREAMID_INVALID'],
  ])('refuses %s', (_what, raw, code) => {
    expect(parseStreamId(raw)).toMatchObject({ error: code });
  });

  it('never throws, and names what it returns only from the input, for any string', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 600 }), fc.string({ unit: 'binary', maxLength: 80 }),
      fc.tuple(fc.constantFrom('#!::', 'publish:', '%23!%3A%3A', ''), fc.string({ maxLength: 100 })).map(([a, b]) => a + b)), (raw) => {
      const r = parseStreamId(raw);
      if ('error' in r) return;
      if (r.name !== undefined) expect(r.name.length).toBeGreaterThan(0);
      if (r.name !== undefined) expect(r.name.length).toBeLessThanOrEqual(MAX_STREAMID_CHARS);
    }), { numRuns: 3000 });
  });
});
