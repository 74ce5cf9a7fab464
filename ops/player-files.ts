// The player's files as the relay serves them (/player/FILE): read once at start, each with an
// ETag, so a returning viewer revalidates (304) instead of downloading the bundle again and the
// browser keeps its compiled code (V8's code cache follows the HTTP cache); and each script with
// the brotli and gzip copies the build wrote next to it (scripts/build-player.mjs), chosen by the
// request's Accept-Encoding. On a phone's link the bundle's download is part of the time to the
// first frame: watch.js is ~78 KB plain and ~21 KB as brotli.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { Logger } from '../util/log.js';

export type ContentCoding = 'br' | 'gzip' | 'identity';

export interface PlayerFileVariant {
  body: Buffer;
  /** Distinct per coding: a cache must not answer a gzip request with the brotli bytes. */
  etag: string;
  coding: ContentCoding;
}

export interface PlayerFile {
  type: string;
  variants: Partial<Record<ContentCoding, PlayerFileVariant>> & { identity: PlayerFileVariant };
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

/** The extension of each coding's copy on disk. */
const SUFFIX: Record<Exclude<ContentCoding, 'identity'>, string> = { br: '.br', gzip: '.gz' };

export function loadPlayerFiles(dir: string, log: Logger): Map<string, PlayerFile> {
  const files = new Map<string, PlayerFile>();
  if (!existsSync(dir)) {
    log.error({ dir }, 'player bundle missing: run `npm run build:player`');
    return files;
  }
  for (const f of readdirSync(dir)) {
    if (!/\.(js|map)$/.test(f)) continue;
    const body = readFileSync(join(dir, f));
    const built = statSync(join(dir, f)).mtimeMs;
    const tag = etagOf(body);
    const file: PlayerFile = { type: TYPES[f.slice(f.lastIndexOf('.'))]!, variants: { identity: { body, etag: `"${tag}"`, coding: 'identity' } } };
    for (const coding of ['br', 'gzip'] as const) {
      const path = join(dir, f + SUFFIX[coding]);
      // A copy older than its script is from an earlier build: serving it would serve old code.
      if (existsSync(path) && statSync(path).mtimeMs >= built) file.variants[coding] = { body: readFileSync(path), etag: `"${tag}-${coding}"`, coding };
    }
    files.set(f, file);
  }
  return files;
}

/**
 * The coding to answer with, by the request's Accept-Encoding (RFC 9110 §12.5.3): the one of
 * `available` with the highest q above 0, brotli on a tie; `*` stands for any coding not named;
 * identity when none. Malformed parts are ignored.
 */
export function chooseCoding(header: string, available: (c: ContentCoding) => boolean): ContentCoding {
  const q = new Map<string, number>();
  for (const part of header.slice(0, 1024).split(',')) {
    const [name, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (!name) continue;
    const qp = params.find((p) => p.startsWith('q='));
    const value = qp === undefined ? 1 : Number(qp.slice(2));
    if (Number.isFinite(value) && value >= 0 && value <= 1) q.set(name, value);
  }
  let best: ContentCoding = 'identity';
  let bestQ = 0;
  for (const c of ['br', 'gzip'] as const) {
    const v = q.get(c) ?? q.get('*') ?? 0;
    if (v > bestQ && available(c)) {
      best = c;
      bestQ = v;
    }
  }
  return best;
}

const etagOf = (body: Buffer): string => createHash('sha256').update(body).digest('base64url').slice(0, 22);

/** A page built in memory, with its brotli and gzip copies made once (a few ms for a few tens of KB). */
export function builtFile(type: string, text: string): PlayerFile {
  const body = Buffer.from(text);
  const tag = etagOf(body);
  return {
    type,
    variants: {
      identity: { body, etag: `"${tag}"`, coding: 'identity' },
      br: { body: brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }), etag: `"${tag}-br"`, coding: 'br' },
      gzip: { body: gzipSync(body, { level: 9 }), etag: `"${tag}-gzip"`, coding: 'gzip' },
    },
  };
}

/** What to answer a request for `f` with (http.ts sends it). */
export interface FileResponse {
  status: '200 OK' | '304 Not Modified';
  body: Buffer | '';
  headers: Record<string, string>;
}

/**
 * The coding the request accepts (Vary: Accept-Encoding), or 304 when it already holds that
 * coding's ETag. `acceptEncoding` and `ifNoneMatch` are the request's headers ('' when absent).
 */
export function fileResponse(f: PlayerFile, acceptEncoding: string, ifNoneMatch: string): FileResponse {
  const v = f.variants[chooseCoding(acceptEncoding, (c) => f.variants[c] !== undefined)] ?? f.variants.identity;
  const headers: Record<string, string> = { ETag: v.etag, Vary: 'Accept-Encoding' };
  if (ifNoneMatch === v.etag) return { status: '304 Not Modified', body: '', headers };
  if (v.coding !== 'identity') headers['Content-Encoding'] = v.coding;
  return { status: '200 OK', body: v.body, headers };
}
