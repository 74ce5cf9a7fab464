// The FFmpeg publishers and WebSocket viewers a test file starts, ended together after each test
// (the machine is shared, and limits count live callers).
import type { Running } from './nowcast.js';
import { Publisher } from './publisher.js';
import { Viewer } from './viewer.js';

type PublisherOptions = ConstructorParameters<typeof Publisher>[0];

export class Cast {
  readonly #publishers: Publisher[] = [];
  readonly #viewers: Viewer[] = [];
  readonly #defaults: Partial<PublisherOptions>;

  /** `defaults`: what every publisher of the file shares (size, format). */
  constructor(defaults: Partial<PublisherOptions> = {}) {
    this.#defaults = defaults;
  }

  publish(o: PublisherOptions): Publisher {
    const p = new Publisher({ ...this.#defaults, ...o });
    this.#publishers.push(p);
    return p;
  }

  view(r: Running, name: string): Viewer {
    const v = new Viewer(r.ws(name));
    this.#viewers.push(v);
    return v;
  }

  /** Closes every viewer and stops every publisher started so far. Safe to call twice. */
  async end(): Promise<void> {
    for (const v of this.#viewers.splice(0)) v.close();
    await Promise.all(this.#publishers.splice(0).map((p) => p.stop()));
  }
}

/** A caller URL on `r`'s first SRT port with this streamid (URL-encoded; FFmpeg decodes it). */
export const srtCaller = (r: Running, streamId: string, extra = ''): string => `${r.srt(r.srtPorts[0]!)}&streamid=${encodeURIComponent(streamId)}${extra}`;
