// The player's files in the codings the build wrote (scripts/build-player.mjs), chosen by the
// request's Accept-Encoding, on a real uWS server; and the choice itself, table-tested and fuzzed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { startPagesServer, type PagesServer } from '../helpers/pages-server.js';
import { chooseCoding, type ContentCoding } from '../../ops/player-files.js';

describe('chooseCoding', () => {
  const all = (): boolean => true;
  it.each<[string, ContentCoding]>([
    ['', 'identity'],
    ['gzip, deflate, br', 'br'],
    ['gzip, deflate', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['br;q=0.5, gzip;q=0.8', 'gzip'],
    ['BR', 'br'],
    ['*', 'br'],
    ['*;q=0, gzip', 'gzip'],
    ['gzip;q=0, br;q=0', 'identity'],
    ['identity', 'identity'],
    ['br;q=2, gzip', 'gzip'], // a q outside 0..1 is malformed: ignored
    ['br;q=abc', 'identity'],
    [' , ;q=1, br ;  q=1 ', 'br'],
    [`${'x;q=0.5,'.repeat(200)} br`, 'identity'], // past the first 1,024 characters nothing is read
  ])('answers %j with %s', (header, coding) => {
    expect(chooseCoding(header, all)).toBe(coding);
  });

  it('chooses only a coding the file has', () => {
    expect(chooseCoding('br, gzip', (c) => c === 'gzip')).toBe('gzip');
    expect(chooseCoding('br', (c) => c === 'gzip')).toBe('identity');
  });

  it('never throws on any header, and answers a coding the file has or identity', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), fc.boolean(), fc.boolean(), (header, br, gz) => {
      const c = chooseCoding(header, (x) => (x === 'br' ? br : gz));
      expect(c === 'identity' || (c === 'br' && br) || (c === 'gzip' && gz)).toBe(true);
    }), { numRuns: 2000 });
  });
});

const SCRIPT = `console.log(${JSON.stringify('the player '.repeat(200))})`;
let base = '';
let server: PagesServer | undefined;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nowcast-player-'));
  writeFileSync(join(dir, 'watch.js'), SCRIPT);
  writeFileSync(join(dir, 'watch.js.br'), brotliCompressSync(SCRIPT));
  writeFileSync(join(dir, 'watch.js.gz'), gzipSync(SCRIPT));
  // A copy left from an earlier build, older than its script: never served.
  writeFileSync(join(dir, 'old.js'), 'new code');
  writeFileSync(join(dir, 'old.js.br'), brotliCompressSync('old code'));
  utimesSync(join(dir, 'old.js.br'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  server = await startPagesServer(dir);
  base = server.base;
});

afterAll(() => server?.close());

/** A GET with exactly these headers (fetch would add and undo an Accept-Encoding of its own). */
function get(path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the player bundle, compressed', () => {
  it('is sent as brotli, gzip or plain by Accept-Encoding, the same script each way, with Vary and an ETag per coding', async () => {
    const br = await get('/player/watch.js', { 'Accept-Encoding': 'gzip, deflate, br' });
    const gz = await get('/player/watch.js', { 'Accept-Encoding': 'gzip' });
    const plain = await get('/player/watch.js', {});
    expect([br.headers['content-encoding'], gz.headers['content-encoding'], plain.headers['content-encoding']]).toEqual(['br', 'gzip', undefined]);
    expect(brotliDecompressSync(br.body).toString()).toBe(SCRIPT);
    expect(gunzipSync(gz.body).toString()).toBe(SCRIPT);
    expect(plain.body.toString()).toBe(SCRIPT);
    expect(br.body.length).toBeLessThan(SCRIPT.length / 5);
    for (const r of [br, gz, plain]) expect(r.headers.vary).toBe('Accept-Encoding');
    expect(new Set([br.headers.etag, gz.headers.etag, plain.headers.etag]).size).toBe(3);
  });

  it('answers 304 only to the ETag of the coding it would send', async () => {
    const br = await get('/player/watch.js', { 'Accept-Encoding': 'br' });
    const etag = br.headers.etag as string;
    expect((await get('/player/watch.js', { 'Accept-Encoding': 'br', 'If-None-Match': etag })).status).toBe(304);
    const other = await get('/player/watch.js', { 'Accept-Encoding': 'gzip', 'If-None-Match': etag });
    expect(other.status).toBe(200);
    expect(other.headers['content-encoding']).toBe('gzip');
  });

  it('never serves a compressed copy older than its script', async () => {
    const r = await get('/player/old.js', { 'Accept-Encoding': 'br' });
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.body.toString()).toBe('new code');
  });

  it('serves the watch page the same way, one page for every stream, compressed once', async () => {
    const a = await get('/watch/cam1', { 'Accept-Encoding': 'br' });
    const b = await get('/watch/cam2', { 'Accept-Encoding': 'gzip' });
    const c = await get('/watch/cam1', {});
    expect(a.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(a.body).toString()).toBe(c.body.toString());
    expect(gunzipSync(b.body).toString()).toBe(c.body.toString());
    expect(c.body.toString()).toContain('<video id="video"');
    expect((await get('/watch/cam3', { 'Accept-Encoding': 'br', 'If-None-Match': a.headers.etag as string })).status).toBe(304);
    expect((await get('/watch/bad%20name', { 'Accept-Encoding': 'br' })).status).toBe(400);
  });
});
