// The transcoder's FFmpeg command: the source's fMP4 (init + one-frame chunks) on stdin, one
// lower rendition as fMP4 one-frame chunks on stdout, with the source's decode times, keyframes
// and timescale, so a viewer can switch between them at any keyframe (docs/abr.md).
import type { Rendition } from './config.js';

export interface TranscodeOptions {
  rendition: Rendition;
  /** Video track timescale of the source (its mdhd): the rendition keeps it, and its decode times. */
  videoTimescale: number;
  /** Fragment duration in µs: one frame per chunk, as remux.fragmentUs. */
  fragmentUs: number;
}

export function transcodeArgs(o: TranscodeOptions): string[] {
  const r = o.rendition;
  return [
    '-hide_banner', '-loglevel', 'warning',
    // Decoder output at once: without it FFmpeg's H.264 decoder held frames back for reordering
    // the source may not have (rendition 107 ms behind the source's arrival, p50, against 40 ms
    // with it). A source with B-frames says so in its SPS, and the decoder then reorders anyway.
    '-flags', 'low_delay',
    // The input is ours and whole from its first byte: no probing beyond the init segment.
    '-copyts', '-probesize', '32768', '-analyzeduration', '0', '-f', 'mp4', '-i', 'pipe:0',
    '-map', '0:v:0', '-map', '0:a?',
    '-vf', `scale=-2:${r.height}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    // Keyframes exactly where the source has them, and nowhere else: a switch lands on any of them.
    '-force_key_frames', 'source', '-g', '1000000', '-sc_threshold', '0',
    '-b:v', String(r.videoBitrate), '-maxrate', String(r.videoBitrate), '-bufsize', String(Math.round(r.videoBitrate / 2)),
    // Each frame keeps its input timestamp (not CFR, not rounded to 1/fps).
    '-fps_mode', 'passthrough', '-enc_time_base:v', '-1',
    '-c:a', 'copy',
    '-f', 'mp4', '-video_track_timescale', String(o.videoTimescale),
    // The source's decode times, not shifted to 0: without these the muxer starts at zero.
    '-avoid_negative_ts', 'disabled', '-use_editlist', '0',
    '-movflags', '+empty_moov+default_base_moof+skip_sidx+skip_trailer+frag_discont',
    '-frag_duration', String(o.fragmentUs),
    '-write_prft', 'wallclock', '-flush_packets', '1', '-max_interleave_delta', '0',
    'pipe:1',
  ];
}
