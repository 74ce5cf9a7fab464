// The LL-HLS media playlist, written as text (draft-pantos-hls-rfc8216bis): our own ~60 lines
// rather than a library, because it runs once per new part per stream and we want control of
// number formatting; tests parse the output back with hls-parser.
import { initUri, partUri, segmentUri, type Segment } from './types.js';

export interface PlaylistInput {
  /** Complete segments, oldest first. */
  segments: readonly Segment[];
  /** The segment being built: its parts only, no EXTINF yet. */
  open: Segment | null;
  /** PART-TARGET (s): every part is at most this long. */
  partTarget: number;
  /** EXT-X-TARGETDURATION (s, whole). */
  targetDuration: number;
  /** Number of the next part: the preload hint. */
  hint: number;
  /** List EXT-X-PART lines for this many of the newest segments (the open one counts when it has parts). */
  partSegments: number;
  /** Appended to every URI (e.g. `?token=…`, already encoded), or ''. */
  suffix: string;
}

/** Seconds with at most 5 decimals and no trailing zeros: 0.2, 1.00133. */
export function seconds(x: number): string {
  return x.toFixed(5).replace(/\.?0+$/, '');
}

export function writePlaylist(p: PlaylistInput): string {
  const all = p.open && p.open.parts.length ? [...p.segments, p.open] : p.segments;
  const first = all[0];
  if (!first) throw new Error('writePlaylist: no segment to list');
  const s = p.suffix;
  const out = [
    '#EXTM3U',
    '#EXT-X-VERSION:9',
    `#EXT-X-TARGETDURATION:${p.targetDuration}`,
    // PART-HOLD-BACK: the spec's SHOULD (3 × PART-TARGET); hls.js holds exactly this in lowLatencyMode.
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${seconds(3 * p.partTarget)},HOLD-BACK=${seconds(3 * p.targetDuration)}`,
    `#EXT-X-PART-INF:PART-TARGET=${seconds(p.partTarget)}`,
    `#EXT-X-MEDIA-SEQUENCE:${first.msn}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${first.disc}`,
  ];
  if (all.every((seg) => seg.independent)) out.push('#EXT-X-INDEPENDENT-SEGMENTS');
  // The segment the preload hint opens counts among partSegments even before it has parts: with
  // it, the parts listed stay within three segments of the playlist's end as hls-parser checks it
  // (RFC 8216bis 4.4.4.9 says three target durations), and its "Invalid Playlist" warnings go.
  const partsFrom = (all.length + (all.at(-1) === p.open ? 0 : 1)) - p.partSegments;
  all.forEach((seg, i) => {
    const prev = all[i - 1];
    if (prev && seg.disc !== prev.disc) out.push('#EXT-X-DISCONTINUITY');
    if (!prev || seg.initId !== prev.initId) out.push(`#EXT-X-MAP:URI="${initUri(seg.initId)}${s}"`);
    out.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(seg.wallMs).toISOString()}`);
    if (i >= partsFrom) {
      for (const part of seg.parts) {
        out.push(`#EXT-X-PART:DURATION=${seconds(part.duration)},URI="${partUri(part.n)}${s}"${part.independent ? ',INDEPENDENT=YES' : ''}`);
      }
    }
    if (seg !== p.open) out.push(`#EXTINF:${seconds(seg.duration)},`, `${segmentUri(seg.msn)}${s}`);
  });
  out.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${partUri(p.hint)}${s}"`);
  return out.join('\n') + '\n';
}
