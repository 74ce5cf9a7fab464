// SRT ingest: FFmpeg's libsrt listener accepts one caller per port, so each configured port
// maps to one stream name. The listener is FFmpeg itself, supervised like any remux: when the
// caller leaves FFmpeg exits and a fresh listener takes its place.
import type { Logger } from '../app/log.js';
import type { Config, SrtListener } from '../app/config.js';
import type { MediaSink } from './sink.js';
import { remuxArgs } from './ffmpeg-args.js';
import { Remux } from './remux.js';

export class SrtIngest {
  readonly listener: SrtListener;
  #remux: Remux;
  #live = false;

  constructor(listener: SrtListener, host: string, cfg: Config, sink: MediaSink, log: Logger) {
    this.listener = listener;
    const args = remuxArgs({
      input: { kind: 'srt', host, port: listener.port, latencyMs: cfg.srt.latencyMs },
      fragmentUs: cfg.remux.fragmentUs,
      analyzeDurationUs: cfg.srt.analyzeDurationUs,
      probeSizeBytes: cfg.srt.probeSizeBytes,
    });
    this.#remux = new Remux({ ...cfg.remux, args, restart: 'always' }, {
      unit: (u) => {
        if (u.kind === 'init') {
          if (!this.#live) log.info('srt publisher connected');
          this.#live = true;
          sink.init(u);
        } else sink.chunk(u);
      },
      failure: (code, message) => sink.failure(code, message),
      exit: () => {
        if (!this.#live) return;
        this.#live = false;
        sink.offline('PUBLISHER_LEFT');
      },
    }, log);
  }

  get live(): boolean {
    return this.#live;
  }

  close(): void {
    this.#remux.detach();
  }
}
