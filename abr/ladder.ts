// The ABR ladder: for each live stream, one Transcoder per lower rendition, fed from the relay's
// tap (the source's generations and chunks exactly as viewers get them). Each rendition is a
// relay stream under an internal name (renditionStream) that STREAM_NAME_RE refuses, so no
// publisher can publish it and no viewer can open it by name; the relay hands it to viewers
// by switching them (docs/abr.md). A failing transcoder fails only its rendition's stream.
import type { Logger } from '../util/log.js';
import type { Chunk, InitSegment } from '../media/types.js';
import type { SinkProvider } from '../media/sink.js';
import type { StreamState } from '../protocol/messages.js';
import { ladderFor, type AbrConfig, type Rendition } from './config.js';
import { Transcoder } from './transcoder.js';

/** What the relay's tap interface asks (relay/tap.ts), declared here so abr/ does not import relay/. */
export interface LadderTap {
  init(stream: string, generation: number, init: InitSegment): void;
  chunk(stream: string, chunk: Chunk): void;
  state(stream: string, state: StreamState): void;
  closed(stream: string): void;
}

/** Separates a stream's name from its rendition's in internal names; never in a public name. */
export const RENDITION_SEPARATOR = '~';

export function renditionStream(stream: string, rendition: string): string {
  return `${stream}${RENDITION_SEPARATOR}${rendition}`;
}

export function isRenditionStream(name: string): boolean {
  return name.includes(RENDITION_SEPARATOR);
}

export interface LadderOptions {
  config: AbrConfig;
  ffmpegPath: string;
  fragmentUs: number;
  maxBoxBytes: number;
  maxInitBytes: number;
  restartDelayMs: number;
  maxRestartDelayMs: number;
  /** Where each rendition's media goes (the relay). */
  sinks: SinkProvider;
  log: Logger;
  /** The tap that sees public streams after the ladder (hls/); rendition streams never reach it. */
  next?: LadderTap;
}

interface Running {
  generation: number;
  transcoders: Transcoder[];
}

export class AbrLadder implements LadderTap {
  readonly #o: LadderOptions;
  readonly #running = new Map<string, Running>();
  #closed = false;
  /** Transcoders started, and failures reported, over the ladder's life (metrics, tests). */
  started = 0;
  failures = 0;

  constructor(o: LadderOptions) {
    this.#o = o;
  }

  /** The lower renditions running for `stream` now, highest first; `up`: producing (not restarting after a failure). */
  renditions(stream: string): Array<Rendition & { up: boolean }> {
    return this.#running.get(stream)?.transcoders.map((t) => ({ ...t.rendition, up: t.up })) ?? [];
  }

  /** The transcoder's FFmpeg process id (tests kill it). */
  pid(stream: string, rendition: string): number | undefined {
    return this.#running.get(stream)?.transcoders.find((t) => t.rendition.name === rendition)?.pid;
  }

  init(stream: string, generation: number, init: InitSegment): void {
    if (isRenditionStream(stream)) return;
    this.#o.next?.init(stream, generation, init);
    if (this.#closed) return;
    this.#stop(stream);
    const video = init.tracks.find((t) => t.kind === 'video');
    const ladder = video ? ladderFor(this.#o.config, stream).filter((r) => !video.height || r.height < video.height) : [];
    if (!ladder.length) return;
    const transcoders = [...ladder].sort((a, b) => b.height - a.height).map((r) => this.#start(stream, generation, init, r));
    this.#running.set(stream, { generation, transcoders });
  }

  chunk(stream: string, chunk: Chunk): void {
    if (isRenditionStream(stream)) return;
    this.#o.next?.chunk(stream, chunk);
    const r = this.#running.get(stream);
    if (r) for (const t of r.transcoders) t.push(chunk);
  }

  state(stream: string, state: StreamState): void {
    if (isRenditionStream(stream)) return;
    this.#o.next?.state(stream, state);
    // The source's media stopped (publisher gone, remux failed): its next init starts a new ladder.
    if (state !== 'live') this.#stop(stream, state === 'offline' ? 'the source went offline' : 'the source failed');
  }

  closed(stream: string): void {
    if (isRenditionStream(stream)) return;
    this.#o.next?.closed(stream);
    this.#stop(stream, 'the source closed');
  }

  #start(stream: string, generation: number, init: InitSegment, r: Rendition): Transcoder {
    const name = renditionStream(stream, r.name);
    const sink = this.#o.sinks.sink(name);
    const log = this.#o.log.child({ stream: name });
    this.started++;
    return new Transcoder({
      ffmpegPath: this.#o.ffmpegPath, rendition: r, init, name, fragmentUs: this.#o.fragmentUs,
      maxBoxBytes: this.#o.maxBoxBytes, maxInitBytes: this.#o.maxInitBytes,
      restartDelayMs: this.#o.restartDelayMs, maxRestartDelayMs: this.#o.maxRestartDelayMs,
    }, {
      // The source's generation: a viewer switched to the rendition stays on its timeline.
      init: (i) => sink.init(i, generation),
      chunk: (c) => sink.chunk(c),
      // Not the stream's error state: its viewers would be told the stream failed. The relay
      // sees a rendition without fresh chunks and sends its viewers home (relay/abr-switch.ts).
      failure: (code, message) => log.warn({ rendition: r.name, code }, `rendition output refused: ${message}`),
    }, log, {
      failed: (message) => {
        this.failures++;
        log.warn({ rendition: r.name }, `rendition failed: ${message}`);
      },
    });
  }

  #stop(stream: string, offline?: string): void {
    const r = this.#running.get(stream);
    if (!r) return;
    this.#running.delete(stream);
    for (const t of r.transcoders) {
      void t.close();
      if (offline) this.#o.sinks.sink(renditionStream(stream, t.rendition.name)).offline(offline);
    }
  }

  /** Stops every transcoder; resolves once all exited. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#running.values()].flatMap((r) => r.transcoders);
    this.#running.clear();
    await Promise.all(all.map((t) => t.close()));
  }
}
