// A WebSocket viewer that records every message as the relay sent it, and parses its
// binary frames with our own splitter so tests can assert on chunks.
import WebSocket from 'ws';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { ServerMessage } from '../../protocol/messages.js';
import { Fmp4Splitter } from '../../ingest/fmp4/splitter.js';
import type { Fmp4Unit } from '../../media/types.js';

export type Received =
  | { at: number; kind: 'text'; msg: ServerMessage }
  | { at: number; kind: 'binary'; bytes: Buffer; unit: Fmp4Unit };

export class Viewer {
  readonly ws: WebSocket;
  readonly received: Received[] = [];
  readonly opened: Promise<void>;
  readonly openedAt: Promise<number>;
  closed = false;
  #splitter = new Fmp4Splitter();

  constructor(url: string, options?: WebSocket.ClientOptions) {
    this.ws = new WebSocket(url, options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.openedAt = this.opened.then(() => Date.now());
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      const at = Date.now();
      if (!isBinary) {
        this.received.push({ at, kind: 'text', msg: JSON.parse(data.toString()) as ServerMessage });
        return;
      }
      // Each binary frame must be exactly one unit: init or chunk, never a part or two.
      const units: Fmp4Unit[] = [];
      this.#splitter.push(Buffer.from(data), (u) => units.push(u));
      if (units.length !== 1) throw new Error(`binary frame held ${units.length} units`);
      this.received.push({ at, kind: 'binary', bytes: Buffer.from(data), unit: units[0]! });
    });
    this.ws.on('close', () => { this.closed = true; });
  }

  texts(type?: string): ServerMessage[] {
    return this.received.flatMap((r) => (r.kind === 'text' && (!type || r.msg.type === type) ? [r.msg] : []));
  }

  chunks(): Array<Extract<Fmp4Unit, { kind: 'chunk' }> & { at: number }> {
    return this.received.flatMap((r) => (r.kind === 'binary' && r.unit.kind === 'chunk' ? [{ ...r.unit, at: r.at }] : []));
  }

  inits(): Array<Extract<Fmp4Unit, { kind: 'init' }>> {
    return this.received.flatMap((r) => (r.kind === 'binary' && r.unit.kind === 'init' ? [r.unit] : []));
  }

  /** Resolves when `pred` holds, polling; rejects with `what` after `ms`. */
  async until(pred: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The binary frames from index `from` on, concatenated: what a player would have appended. */
  concat(from = 0): Buffer {
    return Buffer.concat(this.received.slice(from).flatMap((r) => (r.kind === 'binary' ? [r.bytes] : [])));
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Runs ffprobe on bytes; returns its streams and the number of video frames it reads. */
export function ffprobe(bytes: Buffer): { streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number }>; videoPackets: number } {
  const dir = mkdtempSync(join(tmpdir(), 'nowcast-probe-'));
  const file = join(dir, 'view.mp4');
  writeFileSync(file, bytes);
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-show_entries',
    'stream=codec_type,codec_name,width,height,nb_read_packets', '-of', 'json', file], { encoding: 'utf8' });
  const parsed = JSON.parse(out) as { streams: Array<{ codec_type: string; codec_name: string; width?: number; height?: number; nb_read_packets?: string }> };
  const video = parsed.streams.find((s) => s.codec_type === 'video');
  return { streams: parsed.streams, videoPackets: Number(video?.nb_read_packets ?? 0) };
}
