// The ABR ladder's slice of the configuration (app/schema.ts composes it; docs/configuration.md
// lists it; docs/abr.md says how the ladder and the switching work).

export interface Rendition {
  /** Its name, as players pin it (`rendition` option): 1–16 lowercase letters, digits, _ or -. */
  name: string;
  /** Output height in px (width follows the source's aspect ratio); renditions at or above the source's height are not made. */
  height: number;
  /** x264 video bitrate, bits/s (audio is copied from the source). */
  videoBitrate: number;
}

export interface AbrConfig {
  /** Transcode a ladder of lower renditions of every live stream, and switch each viewer between them by its acknowledged throughput and lag. Off: nothing runs. */
  enabled: boolean;
  /** The lower renditions, each one FFmpeg (x264 veryfast, zerolatency) process per live stream; the source is always the top one, passed through. */
  ladder: Rendition[];
  /** relay.ackIntervalMs while abr.enabled: switching waits on acks, and at 500 ms the bottleneck of bench:network stalled more than at 200 ms (bench/RESULTS.md). */
  ackIntervalMs: number;
  /** Per-stream rules while abr.enabled, e.g. [{"stream":"lowres","enabled":false}] (no ladder) or [{"stream":"game","ladder":[…]}] (its own). */
  streams: Array<{ stream: string; enabled?: boolean; ladder?: Rendition[] }>;
}

export const RENDITION_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,15}$/;

/** What a key's value must be, as the error for it says (app/config-validate.ts throws it with the key). */
export function ladderProblem(ladder: unknown): { at: string; message: string } | null {
  if (!Array.isArray(ladder)) return { at: '', message: 'expected an array of {name, height, videoBitrate}' };
  const names = new Set<string>();
  for (const [i, r] of ladder.entries()) {
    const at = `[${i}]`;
    if (typeof r !== 'object' || r === null) return { at, message: 'expected {name, height, videoBitrate}' };
    const { name, height, videoBitrate } = r as Partial<Rendition>;
    if (typeof name !== 'string' || !RENDITION_NAME_RE.test(name)) return { at: `${at}.name`, message: `expected 1–16 lowercase letters, digits, _ or -, got ${JSON.stringify(name)}` };
    if (name === 'source') return { at: `${at}.name`, message: '"source" names the pass-through rendition' };
    if (names.has(name)) return { at: `${at}.name`, message: `${JSON.stringify(name)} appears twice` };
    names.add(name);
    if (typeof height !== 'number' || !Number.isInteger(height) || height < 64 || height > 4320 || height % 2) return { at: `${at}.height`, message: `expected an even number of px from 64 to 4320, got ${JSON.stringify(height)}` };
    if (typeof videoBitrate !== 'number' || !Number.isInteger(videoBitrate) || videoBitrate < 50_000 || videoBitrate > 50_000_000) {
      return { at: `${at}.videoBitrate`, message: `expected bits/s from 50000 to 50000000, got ${JSON.stringify(videoBitrate)}` };
    }
  }
  return null;
}

/** The ladder for one stream: empty when abr.enabled is off, or a rule turns it off for this stream. */
export function ladderFor(c: AbrConfig, stream: string): Rendition[] {
  const rule = c.streams.find((s) => s.stream === stream);
  if (!c.enabled || rule?.enabled === false) return [];
  return rule?.ladder ?? c.ladder;
}
