// SRT ingest: FFmpeg's libsrt listener accepts one caller per port, so each configured port
// maps to one stream name. The listener is FFmpeg itself, supervised like any remux: when the
// caller leaves FFmpeg exits and a fresh listener takes its place.
import type { Logger } from '../util/log.js';
import type { RemuxConfig, SrtConfig, SrtListener } from './config.js';
import type { MediaSink } from '../media/sink.js';
import { remuxArgs } from './ffmpeg-args.js';
import { Remux } from './remux.js';
import { PublishStats } from './publish-stats.js';
import type { IngestCounters } from './counters.js';

export class SrtIngest {
  readonly listener: SrtListener;
  #remux: Remux;
  #live = false;
  /** The current caller's session; the listener can't tell when a caller connected, so no `since`. */
  stats: PublishStats;

  constructor(listener: SrtListener, host: string, cfg: { srt: SrtConfig; remux: RemuxConfig }, sink: MediaSink, log: Logger,
    counters?: IngestCounters) {
    this.listener = listener;
    this.stats = new PublishStats(listener.stream, 'srt', null);
    const args = remuxArgs({
      input: { kind: 'srt', host, port: listener.port, latencyMs: cfg.srt.latencyMs, passphrase: listener.passphrase || cfg.srt.passphrase },
      fragmentUs: cfg.remux.fragmentUs,
      analyzeDurationUs: cfg.srt.analyzeDurationUs,
      probeSizeBytes: cfg.srt.probeSizeBytes,
    });
    this.#remux = new Remux({ ...cfg.remux, args, restart: 'always' }, {
      init: (u) => {
        if (!this.#live) {
          log.info('srt publisher connected');
          this.stats = new PublishStats(listener.stream, 'srt', null);
          if (counters) counters.publishes++;
        }
        this.#live = true;
        this.stats.unit(u);
        sink.init(u);
      },
      chunk: (u) => {
        this.stats.unit(u);
        sink.chunk(u);
      },
      failure: (code, message) => sink.failure(code, message),
    }, log, {
      restart: (clean) => { if (counters) { if (clean) counters.ffmpegRecycles++; else counters.ffmpegRestarts++; } },
      exit: () => {
        if (!this.#live) return;
        this.#live = false;
        sink.offline('PUBLISHER_LEFT');
      },
    });
  }

  get live(): boolean {
    return this.#live;
  }

  close(): void {
    this.#remux.detach();
  }
}
