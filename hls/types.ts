// The LL-HLS vocabulary: a part (a run of whole chunks, moof+mdat only), a segment (its parts,
// from a keyframe), and the URIs that name them. URIs are relative to /hls/NAME/.

export interface Part {
  /** The part's number: unique and increasing over the stream's life (its URI p{n}.mp4). */
  n: number;
  /** Index within its segment (what `_HLS_part` counts). */
  index: number;
  /** Seconds of media, on the reference (video) track's timeline. */
  duration: number;
  /** Starts with a keyframe: a player may begin decoding here. */
  independent: boolean;
  bytes: Buffer;
}

export interface Segment {
  /** Media sequence number. */
  msn: number;
  /** Discontinuity sequence number: one more at each new generation (init segment). */
  disc: number;
  /** The init segment's id (its URI init-{id}.mp4). */
  initId: number;
  /** Server wall clock (ms since the epoch) at which its first chunk was written (prft). */
  wallMs: number;
  /** Seconds: the sum of its parts' durations. */
  duration: number;
  /** Starts with a keyframe (false only when a keyframe-less stretch was cut at maxStreamBytes / 2). */
  independent: boolean;
  parts: Part[];
  /** Its parts in one buffer (the parts' bytes are views into it); null while it is being built. */
  bytes: Buffer | null;
}

export const playlistFile = 'index.m3u8';
export const partUri = (n: number): string => `p${n}.mp4`;
export const segmentUri = (msn: number): string => `s${msn}.mp4`;
export const initUri = (id: number): string => `init-${id}.mp4`;

export type HlsFile =
  | { kind: 'playlist' }
  | { kind: 'part'; n: number }
  | { kind: 'segment'; msn: number }
  | { kind: 'init'; id: number };

/** A number as our URIs write it: decimal digits, no sign or leading zero, at most 2^53. */
const NUMBER = /^(0|[1-9][0-9]{0,15})$/;

function num(s: string): number | null {
  if (!NUMBER.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** The file part of /hls/NAME/FILE, or null for anything we never write. */
export function parseFile(file: string): HlsFile | null {
  if (file === playlistFile) return { kind: 'playlist' };
  const m = /^(p|s|init-)([0-9]+)\.mp4$/.exec(file);
  const n = m ? num(m[2]!) : null;
  if (n === null) return null;
  if (m![1] === 'p') return { kind: 'part', n };
  if (m![1] === 's') return { kind: 'segment', msn: n };
  return { kind: 'init', id: n };
}
