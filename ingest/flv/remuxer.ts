// FLV tags (an RTMP publish, as ingest/rtmp hands them over in process) to fragmented
// MP4, a chunk written as soon as a frame and the audio covering it are in (ready()/flush(),
// timed by ingest/tap.ts). FFmpeg cannot do that: its mp4 muxer closes a fragment only
// when the packet after it arrives, and its interleaver holds the last packet of each burst
// until the next one, so every frame and its audio waited about one frame interval
// (npm run bench:ingest). The cost: a chunk's video frame has no known duration yet; it is
// written with twice the last interval (long, so MSE never sees a decode-time jump it would
// call a discontinuity), and the next chunk's decode time is exact either way.
import { parseAacConfig, parseAvcConfig, type AacConfig, type AvcConfig } from './codecs.js';
import { AUDIO_TRACK_ID, VIDEO_TRACK_ID, chunk, initSegment, type Sample, type TrackRun } from './mp4-writer.js';
import { FlvError, FlvReader, TAG_AUDIO, TAG_VIDEO, type FlvTag } from './reader.js';

export interface FlvRemuxerOptions {
  maxTagBytes: number;
  /** Called once per kind of thing dropped (an unsupported codec, a frame before its config). */
  warn?: (message: string) => void;
  /** Wall clock for the prft boxes; Date.now by default. */
  now?: () => number;
}

const CODEC_AVC = 7;
const FORMAT_AAC = 10;
/** AAC frames are 1024 samples (in the AudioSpecificConfig's rate, also for HE-AAC). */
const AAC_FRAME = 1024;
/** The frame interval assumed until two frames have been seen (30 fps). */
const DEFAULT_FRAME_MS = 33;
/** Longest frame interval taken as the stream's own (slides, very low frame rates), in ms. */
const MAX_FRAME_MS = 10_000;
/**
 * How long, in ms of media, the first init segment waits for the second track's sequence
 * header. An init segment with one track followed by one with two cannot go to the same
 * SourceBuffer, and publishers send both headers before any frame, but not always in one read.
 */
const FIRST_INIT_WAIT_MS = 500;
/** Tags of codecs we cannot carry, with no H.264 or AAC configuration seen, before the stream fails. */
const MAX_UNSUPPORTED_TAGS = 60;
/** Audio held for the next frame goes out alone past this much (video stopped), in ms of media. */
const MAX_AUDIO_HOLD_MS = 100;
/**
 * Audio that starts before the chunk last written rides with the next frame, so chunks stay in
 * decode order (the relay, LL-HLS and the cluster read a chunk's first decode time as progress):
 * an SRT caller with FFmpeg's MPEG-TS defaults sends its audio 0.2 s late, in bursts, after the
 * frames it covers. Past this much of it (video stopped), it goes out alone anyway.
 */
const MAX_LATE_AUDIO_HOLD_MS = 1_000;

export class FlvRemuxer {
  readonly #reader: FlvReader;
  readonly #warn: (message: string) => void;
  readonly #now: () => number;
  readonly #warned = new Set<string>();
  #video: AvcConfig | undefined;
  #audio: AacConfig | undefined;
  /** Whether the init segment of the current configuration has been written. */
  #initDone = false;
  #seq = 0;
  /** Samples waiting to be written, in decode order per track. */
  #videoRun: TrackRun | null = null;
  #audioRun: TrackRun | null = null;
  /** Where the next audio sample starts, in samples; NaN before the first. */
  #audioNext = NaN;
  /** Decode time (ms) of the last video frame and the end of what has been written of video. */
  #lastVideoDts = NaN;
  #videoEndMs = NaN;
  /** Decode time (ms) of the first sample of the chunk last written. */
  #lastChunkMs = -Infinity;
  #frameMs = DEFAULT_FRAME_MS;
  /** The last unwrapped timestamp (32-bit ms wraps after 49.7 days). */
  #lastMs = NaN;
  #unsupportedTags = 0;

  constructor(opts: FlvRemuxerOptions) {
    this.#reader = new FlvReader({ maxTagBytes: opts.maxTagBytes });
    this.#warn = opts.warn ?? (() => {});
    this.#now = opts.now ?? Date.now;
  }

  /** Bytes held for an incomplete tag (the reader's bound: at most maxTagBytes + 15). */
  get bufferedBytes(): number {
    return this.#reader.bufferedBytes;
  }

  /**
   * Feeds FLV bytes. Samples are held until flush(), except that a keyframe, a discontinuity or
   * a new codec configuration first writes what came before it through `emit` (each fMP4 unit,
   * init segment or chunk, as one buffer). Throws FlvError on bad input.
   */
  push(data: Buffer, emit: (fmp4: Buffer) => void): void {
    for (const tag of this.#reader.push(data)) this.tag(tag, emit);
  }

  /** One tag, as push() reads them from FLV bytes (ingest/ts builds its own from MPEG-TS). */
  tag(tag: FlvTag, emit: (fmp4: Buffer) => void): void {
    if (tag.type === TAG_VIDEO) this.#onVideo(tag, emit);
    else if (tag.type === TAG_AUDIO) this.#onAudio(tag, emit);
    // Script data (onMetaData) says nothing the sequence headers don't.
  }

  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#warn(message);
  }

  /**
   * A sequence header that differs from the current one. Before anything is written it only
   * completes the first init segment. After, what is held goes out under the old init segment,
   * and a new one comes next (a new picture size, profile or audio config) whose media may start
   * a new timeline, so nothing carries over but the frame interval.
   */
  #newConfig(emit: (b: Buffer) => void): void {
    if (this.#seq === 0) return;
    this.flush(emit, true);
    this.#initDone = false;
    this.#audioNext = NaN;
    this.#lastVideoDts = NaN;
    this.#videoEndMs = NaN;
    this.#lastChunkMs = -Infinity;
  }

  /**
   * A tag of a codec we cannot carry: dropped with a warning. Fatal only when nothing playable
   * has shown up after a while (the other track's sequence header may come after this one's).
   */
  #unsupported(key: string, message: string): void {
    this.#warnOnce(key, message);
    if (!this.#video && !this.#audio && ++this.#unsupportedTags >= MAX_UNSUPPORTED_TAGS) {
      throw new FlvError('FLV_NO_TRACK', `${message}, and there is no H.264 or AAC track to play`);
    }
  }

  /** Unwraps the 32-bit ms timestamp to the value nearest the last one (straggling tags across a wrap included). */
  #ms(tag: FlvTag): number {
    if (Number.isNaN(this.#lastMs)) this.#lastMs = tag.timestamp;
    const base = Math.round((this.#lastMs - tag.timestamp) / 2 ** 32) * 2 ** 32;
    this.#lastMs = Math.max(0, tag.timestamp + base);
    return this.#lastMs;
  }

  #onVideo(tag: FlvTag, emit: (b: Buffer) => void): void {
    const b = tag.body;
    if (b.length < 1) return;
    const frameType = b[0]! >> 4;
    const codec = b[0]! & 0x0f;
    if (frameType === 5) return; // video info/command frame, no picture
    if (codec !== CODEC_AVC || b[0]! & 0x80) {
      this.#unsupported('vcodec', `video codec id ${codec}${b[0]! & 0x80 ? ' (enhanced RTMP)' : ''} is not supported over RTMP, only H.264; video dropped`);
      return;
    }
    if (b.length < 5) throw new FlvError('FLV_BAD_TAG', `AVC video tag of ${b.length} bytes, under its 5-byte header`);
    const packetType = b[1]!;
    if (packetType === 0) {
      const record = b.subarray(5);
      if (!this.#video || !this.#video.record.equals(record)) {
        const next = parseAvcConfig(Buffer.from(record));
        this.#newConfig(emit);
        this.#video = next;
      }
      return;
    }
    if (packetType !== 1) return; // 2: end of sequence
    const ms = this.#ms(tag);
    if (!this.#video) {
      this.#warnOnce('vnoconfig', 'H.264 frames before any AVC sequence header; dropped');
      return;
    }
    const sync = frameType === 1;
    const run = this.#videoRun;
    const interval = ms - this.#lastVideoDts;
    const contiguous = interval > 0 && interval <= MAX_FRAME_MS;
    if (contiguous) {
      this.#frameMs = interval;
      const last = run?.samples.at(-1);
      if (last) last.duration = interval; // now known exactly
    }
    this.#lastVideoDts = ms;
    // The frame just written is held until the next one's arrival only by MSE, not by us: its
    // duration is a guess, so guess long. MSE (and Chromium) treat a decode-time jump of over
    // twice the last frame's duration as a discontinuity and drop frames to the next keyframe;
    // at twice the interval, up to three dropped frames in a row pass.
    const sample: Sample = { data: b.subarray(5), duration: 2 * this.#frameMs, cts: b.readIntBE(2, 3), sync };
    // One frame per chunk: the previous frame goes out first (unless the first init segment is
    // still waiting for the other track; then frames gather, split at keyframes once it is out).
    if (run) this.flush(emit);
    const held = this.#videoRun;
    if (held && contiguous) held.samples.push(sample);
    else {
      if (held) this.flush(emit, true); // a jump in time: its own chunk
      this.#videoRun = { trackId: VIDEO_TRACK_ID, dts: ms, samples: [sample] };
    }
  }

  #onAudio(tag: FlvTag, emit: (b: Buffer) => void): void {
    const b = tag.body;
    if (b.length < 1) return;
    const format = b[0]! >> 4;
    if (format !== FORMAT_AAC) {
      this.#unsupported('acodec', `audio format ${format} is not supported over RTMP, only AAC; audio dropped`);
      return;
    }
    if (b.length < 2) throw new FlvError('FLV_BAD_TAG', `AAC audio tag of ${b.length} bytes, under its 2-byte header`);
    if (b[1] === 0) {
      const asc = b.subarray(2);
      if (!this.#audio || !this.#audio.asc.equals(asc)) {
        const next = parseAacConfig(Buffer.from(asc));
        this.#newConfig(emit);
        this.#audio = next;
      }
      return;
    }
    const ms = this.#ms(tag);
    if (!this.#audio) {
      this.#warnOnce('anoconfig', 'AAC frames before any AAC sequence header; dropped');
      return;
    }
    const rate = this.#audio.sampleRate;
    // Consecutive frames abut exactly (1024 samples), so MSE sees no gaps or overlaps from
    // millisecond rounding; a jump of over half a frame from the FLV clock is a real discontinuity.
    const fromTag = Math.round((ms * rate) / 1000);
    const dts = Math.abs(fromTag - this.#audioNext) <= AAC_FRAME / 2 ? this.#audioNext : fromTag;
    this.#audioNext = dts + AAC_FRAME;
    const sample: Sample = { data: b.subarray(2), duration: AAC_FRAME, cts: 0, sync: true };
    const run = this.#audioRun;
    if (run && run.dts + run.samples.length * AAC_FRAME === dts) run.samples.push(sample);
    else {
      if (run) this.flush(emit, true); // a discontinuity: its own run
      this.#audioRun = { trackId: AUDIO_TRACK_ID, dts, samples: [sample] };
    }
  }

  /**
   * Whether what is pending should be written now. MSE plays up to the earlier of the audio and
   * video ends, and publishers send each frame shortly before the audio that covers it (their
   * interleavers release a frame once audio past its start exists, and that audio once the next
   * frame exists). So a frame waits for audio that reaches its end, and audio alone is written
   * only if it extends what can be played; otherwise the next frame carries it. The caller
   * bounds the wait (remux.chunkWaitMs).
   */
  ready(): boolean {
    const video = this.#videoRun;
    const audio = this.#audioRun;
    if (!video && !audio) return false;
    if (!this.#video || !this.#audio) return true; // one track: nothing to wait for
    const rate = this.#audio.sampleRate;
    const audioEndMs = ((audio ? audio.dts + audio.samples.length * AAC_FRAME : this.#audioNext) * 1000) / rate;
    // Audio that came after the chunk before (late, as it comes in bursts from an SRT caller with
    // FFmpeg's MPEG-TS defaults) goes with this frame at once: this frame's own audio is later still.
    if (video) return audioEndMs >= this.#nominalEnd(video) || (audio !== null && this.#audioStartMs(audio) < this.#lastChunkMs);
    if (this.#lateAudio()) return false;
    // Audio alone: the audio written so far ends where this run starts.
    return this.#audioStartMs(audio!) < this.#videoEndMs || this.#audioHeldMs(audio!) >= MAX_AUDIO_HOLD_MS;
  }

  #audioStartMs(run: TrackRun): number {
    return (run.dts * 1000) / this.#audio!.sampleRate;
  }

  #audioHeldMs(run: TrackRun): number {
    return (run.samples.length * AAC_FRAME * 1000) / this.#audio!.sampleRate;
  }

  /** Audio alone is pending that starts before the chunk last written (and under MAX_LATE_AUDIO_HOLD_MS of it). */
  #lateAudio(): boolean {
    const audio = this.#audioRun;
    if (this.#videoRun || !audio || !this.#audio || !this.#video) return false;
    return this.#audioStartMs(audio) < this.#lastChunkMs && this.#audioHeldMs(audio) < MAX_LATE_AUDIO_HOLD_MS;
  }

  /** Whether anything is waiting to be written. */
  get pending(): boolean {
    return this.#videoRun !== null || this.#audioRun !== null;
  }

  /**
   * Writes what is pending as one chunk, after the init segment if the configuration is new.
   * The first init segment waits (nothing is written) while only one track's configuration is
   * known and the media held spans under FIRST_INIT_WAIT_MS, unless `force`.
   */
  flush(emit: (fmp4: Buffer) => void, force = false): void {
    const video = this.#videoRun;
    const audio = this.#audioRun;
    if (!video && !audio) return;
    if (!force && this.#seq === 0 && !(this.#video && this.#audio) && this.#heldMs() < FIRST_INIT_WAIT_MS) return;
    if (!force && this.#lateAudio()) return;
    this.#videoRun = null;
    this.#audioRun = null;
    if (!this.#initDone) {
      emit(initSegment({ video: this.#video, audio: this.#audio }));
      this.#initDone = true;
    }
    const runs: TrackRun[] = [];
    if (video && this.#video) {
      runs.push(video);
      this.#videoEndMs = this.#nominalEnd(video);
    }
    if (audio && this.#audio) runs.push(audio);
    if (!runs.length) return;
    const first = runs[0]!;
    // A leading B-frame can put the first presentation time before 0; prft's media_time is unsigned.
    const mediaTime = Math.max(0, first === video ? video.dts + video.samples[0]!.cts : first.dts);
    this.#lastChunkMs = first === video ? video.dts : this.#audioStartMs(first);
    emit(chunk(++this.#seq, runs, { refTrackId: first.trackId, unixMs: this.#now(), mediaTime }));
  }

  /** Where a video run really ends: its last frame lasts one interval, whatever it was written with. */
  #nominalEnd(run: TrackRun): number {
    return run.dts + run.samples.reduce((n, x) => n + x.duration, 0) - run.samples.at(-1)!.duration + this.#frameMs;
  }

  /** Media time spanned by what is held, in ms. */
  #heldMs(): number {
    const v = this.#videoRun;
    const a = this.#audioRun;
    const vMs = v ? v.samples.length * this.#frameMs : 0;
    const aMs = a && this.#audio ? this.#audioHeldMs(a) : 0;
    return Math.max(vMs, aMs);
  }
}
