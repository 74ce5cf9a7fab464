import { describe, expect, it } from 'vitest';
import { admitCaller, srtRejectCode, type AdmitLimits, type CallerEntry } from '../../../ingest/srt/admit.js';

const limits: AdmitLimits = { maxCallers: 3, maxCallersPerIp: 2, limitLoopback: false, staleMs: 1000 };
const same = (a: string | undefined, b: string | undefined): boolean => a === b;
const allow = (): null => null;
const entry = (name: string, ip: string, key?: string, lastDataAt = 10_000): CallerEntry => ({ name, ip, key, lastDataAt });
const table = (...e: CallerEntry[]): Map<string, CallerEntry> => new Map(e.map((c, i) => [`9000:${i + 1}`, c]));
const req = (streamId: string, ip = '203.0.113.5') => ({ streamId, ip, defaultStream: 'srt' });

describe('SRT caller admission', () => {
  it.each([
    ['publishes the streamid\'s name', req('publish:cam'), table(), { ok: true, name: 'cam', replaces: undefined }],
    ['publishes the port\'s stream without a streamid', req(''), table(), { ok: true, name: 'srt' }],
    ['refuses a bad streamid', req('junk'), table(), { ok: false, code: 'STREAMID_INVALID' }],
    ['refuses past the total', req('publish:d'), table(entry('a', '1.1.1.1'), entry('b', '1.1.1.2'), entry('c', '1.1.1.3')), { ok: false, code: 'SRT_CALLER_LIMIT' }],
    ['refuses past the per-address limit', req('publish:c'), table(entry('a', '203.0.113.5'), entry('b', '203.0.113.5')), { ok: false, code: 'SRT_CALLER_LIMIT_IP' }],
    ['exempts loopback from the per-address limit', req('publish:c', '127.0.0.1'), table(entry('a', '127.0.0.1'), entry('b', '127.0.0.1')), { ok: true, name: 'c' }],
    ['refuses a live name to other credentials', req('#!::r=a,m=publish,s=k2', '198.51.100.1'), table(entry('a', '203.0.113.5', 'k1', 10_500)), { ok: false, code: 'STREAM_TAKEN' }],
    ['refuses a live name to the same credentials from elsewhere while its caller sends', req('#!::r=a,m=publish,s=k1', '198.51.100.1'), table(entry('a', '203.0.113.5', 'k1', 10_500)), { ok: false, code: 'STREAM_TAKEN' }],
    ['gives a silent caller\'s name to the same credentials', req('#!::r=a,m=publish,s=k1', '198.51.100.1'), table(entry('a', '203.0.113.5', 'k1', 9_000)), { ok: true, name: 'a', replaces: '9000:1' }],
    ['gives a name to the same credentials from the same address at once', req('#!::r=a,m=publish,s=k1'), table(entry('a', '203.0.113.5', 'k1', 10_900)), { ok: true, name: 'a', replaces: '9000:1' }],
    ['refuses a live anonymous name to an anonymous caller from the same address', req('publish:a'), table(entry('a', '203.0.113.5', undefined, 10_900)), { ok: false, code: 'STREAM_TAKEN' }],
    ['gives a silent anonymous caller\'s name to an anonymous caller', req('publish:a', '198.51.100.1'), table(entry('a', '203.0.113.5', undefined, 9_000)), { ok: true, name: 'a', replaces: '9000:1' }],
    ['lets a replacement through a full per-address limit', req('#!::r=a,m=publish,s=k1'), table(entry('a', '203.0.113.5', 'k1'), entry('b', '203.0.113.5')), { ok: true, replaces: '9000:1' }],
  ])('%s', (_what, r, callers, want) => {
    expect(admitCaller(r, callers, limits, 11_000, allow, same)).toMatchObject(want);
  });

  it('asks ingest\'s shared rule with the name, key and address, and refuses with its code', () => {
    const seen: unknown[] = [];
    const r = admitCaller(req('#!::r=cam,m=publish,t=tok.en'), table(), limits, 0, (p) => { seen.push(p); return { code: 'TOKEN_EXPIRED', message: 'x' }; }, same);
    expect(seen).toEqual([{ stream: 'cam', key: 'tok.en', ip: '203.0.113.5' }]);
    expect(r).toMatchObject({ ok: false, code: 'TOKEN_EXPIRED' });
  });

  it('does not reach the credentials check past a limit', () => {
    let asked = false;
    admitCaller(req('publish:d'), table(entry('a', '1.1.1.1'), entry('b', '1.1.1.2'), entry('c', '1.1.1.3')), limits, 0, () => { asked = true; return null; }, same);
    expect(asked).toBe(false);
  });

  it.each([
    ['TOKEN_BAD_SIGNATURE', 1401], ['KEY_WRONG', 1401], ['PUBLISH_AUTH_REQUIRED', 1401], ['STREAMID_INVALID', 1400],
    ['STREAMID_MODE', 1405], ['STREAM_TAKEN', 1409], ['SRT_CALLER_LIMIT_IP', 1402], ['SHUTTING_DOWN', 1503], ['STREAM_LIMIT', 1403],
  ])('rejects %s with SRT code %i', (code, srt) => {
    expect(srtRejectCode(code)).toBe(srt);
  });
});
