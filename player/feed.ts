// Binary frames -> SourceBuffer timeline: pairs each init segment with its `info`, places
// the first chunk after every init on the timeline (generations, reconnects), and reports
// what the playback side needs: each chunk's prft wall clock on the SourceBuffer timeline
// (anchor), its arrival (jitter) and the keyframes. It runs beside the SourceBuffer, on the
// page or in the MSE worker; the playback side keeps a MediaMirror of what it reports.
import type { InfoMessage } from '../protocol/messages.js';
import { isInitSegment, readFirstSampleSync, readFirstTfdt, readPrft } from './boxes.js';
import { localNow } from './clock.js';
import { isTypeSupported, MseSink, type MediaSourceCtor } from './mse.js';
import type { MediaAttachment, MseHandlers } from './mse.js';
import { placeOffset, toRanges } from './timeline.js';

export interface FeedHost extends MseHandlers {
  /** Playback has started on this MediaSource (currentTime is meaningful). */
  started(): boolean;
  /** The MediaSource was recreated: playback must start over at the live edge. */
  restarted(): void;
  /** The socket dropped: arrivals before it say nothing about the path now. */
  disconnected(): void;
  /** Media time `media` (s, SourceBuffer timeline) was written at server Unix ms `wallMs`. */
  anchor(media: number, wallMs: number): void;
  /** A chunk written at server ms `wallMs` arrived at local ms `at`. */
  arrival(at: number, wallMs: number): void;
  /** A keyframe at media time `at` (s, SourceBuffer timeline) was appended. */
  keyframe(at: number): void;
  /** The info of what is appended now changed (undefined after a recreate). */
  current(info: InfoMessage | undefined): void;
  protocolError(message: string): void;
  log(...args: unknown[]): void;
}

export type FrameKind = 'init' | 'media' | 'dropped';

export class MediaFeed {
  readonly sink: MseSink;
  /** Describes what is appended now; `pending` describes the next init segment. */
  info: InfoMessage | undefined;
  #pending: InfoMessage | undefined;
  #unsupportedCodec: string | undefined;
  /** The next chunk is the first after an init: place it on the timeline. */
  #placeNext = false;
  #timelineGeneration: number | undefined;

  readonly #element: MediaAttachment;
  readonly #host: FeedHost;

  constructor(element: MediaAttachment, host: FeedHost) {
    this.#element = element;
    this.#host = host;
    this.sink = new MseSink(element, host);
  }

  /** True while the announced codecs cannot be decoded: media is dropped until a new info. */
  get unsupported(): boolean {
    return this.#unsupportedCodec !== undefined;
  }

  /** Records the info for the next init; returns the codec MSE refuses, if any. */
  announce(info: InfoMessage): string | undefined {
    this.#pending = info;
    this.#unsupportedCodec = unsupportedCodec(info, this.#element.mediaSource);
    return this.#unsupportedCodec;
  }

  /** The socket dropped: whatever the next connection sends starts with a fresh info + init. */
  disconnected(): void {
    this.#pending = undefined;
    this.#placeNext = false;
    this.#host.disconnected();
  }

  /** A new MediaSource (after a media error): nothing is on the timeline any more. */
  recreate(): void {
    this.sink.recreate();
    this.info = undefined;
    this.#host.current(undefined);
    this.#reset();
  }

  push(bytes: Uint8Array<ArrayBuffer>): FrameKind {
    if (isInitSegment(bytes)) return this.#pushInit(bytes);
    const info = this.info;
    if (this.unsupported || !info) return 'dropped'; // nothing we could decode it with
    const tfdt = readFirstTfdt(bytes);
    if (this.#placeNext && tfdt) {
      this.#placeNext = false;
      this.#place(tfdt.baseMediaDecodeTime / timescaleOf(info, tfdt.trackId), info.generation);
    }
    const video = info.tracks.find((t) => t.kind === 'video');
    if (video && tfdt && tfdt.trackId === video.id && readFirstSampleSync(bytes, video.id) === true) {
      const at = tfdt.baseMediaDecodeTime / timescaleOf(info, tfdt.trackId);
      this.sink.note((sb) => this.#host.keyframe(at + sb.timestampOffset));
    }
    const prft = readPrft(bytes);
    if (prft) {
      this.#host.arrival(localNow(), prft.unixMs);
      const ts = timescaleOf(info, prft.referenceTrackId);
      // Queued so it reads the timestampOffset this very chunk is appended with.
      this.sink.note((sb) => this.#host.anchor(prft.mediaTime / ts + sb.timestampOffset, prft.unixMs));
    }
    this.sink.appendMedia(bytes);
    return 'media';
  }

  /** Idempotent: the MediaSource and the element's decoder go with the sink. */
  destroy(): void {
    this.sink.destroy();
  }

  #pushInit(bytes: Uint8Array<ArrayBuffer>): FrameKind {
    const info = this.#pending ?? this.info;
    this.#pending = undefined;
    if (!info) {
      this.#host.protocolError('Init segment without a preceding info message');
      return 'dropped';
    }
    if (this.unsupported) return 'dropped';
    if (info !== this.info) this.#host.current(info);
    this.info = info;
    if (this.sink.appendInit(info.mime, bytes)) this.#reset();
    this.#placeNext = true;
    return 'init';
  }

  /** Sets timestampOffset for a new init's media, decided when the queue reaches it. */
  #place(firstDts: number, generation: number): void {
    this.sink.enqueue((sb) => {
      const offset = placeOffset({
        ranges: toRanges(sb.buffered),
        currentTime: this.#element.currentTime(),
        started: this.#host.started(),
        firstDts,
        generation,
        previousGeneration: this.#timelineGeneration,
        currentOffset: sb.timestampOffset,
      });
      if (offset !== sb.timestampOffset) this.#host.log(`generation ${generation}: timestampOffset ${offset.toFixed(3)}`);
      sb.timestampOffset = offset;
      this.#timelineGeneration = generation;
      return false;
    });
  }

  #reset(): void {
    this.#timelineGeneration = undefined;
    this.#host.restarted();
  }
}

/** Track timescale; 90 kHz (the MPEG default) if the info does not list the track. */
function timescaleOf(info: InfoMessage, trackId: number): number {
  const ts = (info.tracks.find((t) => t.id === trackId) ?? info.tracks[0])?.timescale;
  return ts && ts > 0 ? ts : 90_000;
}

/** The codec MSE refuses, naming a single one where possible; undefined when the mime plays. */
export function unsupportedCodec(info: InfoMessage, ctor: MediaSourceCtor | undefined): string | undefined {
  if (isTypeSupported(info.mime, ctor)) return undefined;
  const container = info.mime.split(';')[0]!.trim();
  const codecs = info.codecs.split(',').map((c) => c.trim()).filter(Boolean);
  return codecs.find((c) => !isTypeSupported(`${container}; codecs="${c}"`, ctor)) ?? (info.codecs || info.mime);
}
