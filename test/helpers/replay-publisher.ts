// A publisher made of raw RTMP: replays the tags of a real FFmpeg-made FLV in real time over
// RawRtmp, so a test controls every byte (inject a bad tag, a header storm, a hijack in the same
// write as publish) while the media stays real.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlvReader, type FlvTag } from '../../ingest/flv/reader.js';
import { RawRtmp, chunked, publishCommands, setChunkSize } from './rtmp-client.js';

/** Tags of a 4 s, 320×240, 30 fps H.264 + AAC FLV with a keyframe every second (made once per process). */
let cached: FlvTag[] | null = null;
export function sampleTags(): FlvTag[] {
  if (cached) return cached;
  const file = join(mkdtempSync(join(tmpdir(), 'nowcast-flv-')), 'sample.flv');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '4',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '64k', '-f', 'flv', file]);
  cached = new FlvReader({ maxTagBytes: 1 << 24 }).push(readFileSync(file)).map((t) => ({ ...t, body: Buffer.from(t.body) }));
  return cached;
}

/** One tag as an RTMP message on the publish stream (csid 4 audio, 6 video, 5 data). */
export function tagMessage(t: FlvTag, timestamp = t.timestamp, chunkSize = 4096): Buffer {
  const csid = t.type === 8 ? 4 : t.type === 9 ? 6 : 5;
  return chunked(csid, t.type, 1, timestamp, t.body, chunkSize);
}

export class ReplayPublisher {
  readonly rtmp: RawRtmp;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(port: number, readonly key: string, opts: { app?: string } = {}) {
    this.rtmp = new RawRtmp(port);
    void this.#run(opts.app ?? 'live');
  }

  async #run(app: string): Promise<void> {
    await this.rtmp.handshake();
    this.rtmp.write(Buffer.concat([setChunkSize(4096), publishCommands(app, this.key, 4096)]));
    await this.rtmp.until(() => this.rtmp.statusCodes().length > 0 || this.rtmp.closed, 3_000, 'a publish answer');
    if (!this.admitted) return;
    const tags = sampleTags();
    const span = tags.at(-1)!.timestamp + 33;
    const start = Date.now();
    let i = 0;
    let loop = 0;
    const tick = (): void => {
      if (this.#stopped || this.rtmp.closed) return;
      const now = Date.now() - start;
      const out: Buffer[] = [];
      for (;;) {
        const t = tags[i]!;
        const ts = t.timestamp + loop * span;
        if (ts > now) break;
        // Sequence headers again on each loop: identical ones are ignored by the server.
        out.push(tagMessage(t, ts));
        if (++i === tags.length) { i = 0; loop++; }
      }
      if (out.length) this.rtmp.write(Buffer.concat(out));
      this.#timer = setTimeout(tick, 10);
    };
    tick();
  }

  get admitted(): boolean {
    return this.rtmp.statusCodes().includes('NetStream.Publish.Start');
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.rtmp.destroy();
  }
}
