// Typed FFmpeg argument builders for the fixed commands Nowcast runs. No wrapper library:
// the commands are small, and every flag here is one we measured a reason for.

export type RemuxInput =
  /** An RTMP publish as FLV on stdin (remux.muxer ffmpeg). */
  | { kind: 'flv-pipe' }
  /** One SRT caller's MPEG-TS on stdin, from the SRT gateway (ingest/srt). */
  | { kind: 'ts-pipe' };

export interface RemuxOptions {
  input: RemuxInput;
  /** Fragment duration in µs (one video frame at 30 fps is 33333). */
  fragmentUs: number;
  analyzeDurationUs: number;
  probeSizeBytes: number;
}

/** Arguments that remux (no re-encode) any input into fragmented MP4 on stdout. */
export function remuxArgs(o: RemuxOptions): string[] {
  const args = ['-hide_banner', '-loglevel', 'warning'];
  // Bounded probing: unbounded, the first fMP4 bytes take seconds. Not `-fflags nobuffer`:
  // it drops the packets read while probing, losing most of the first GOP.
  args.push('-analyzeduration', String(o.analyzeDurationUs), '-probesize', String(o.probeSizeBytes));
  if (o.input.kind === 'flv-pipe') {
    args.push('-f', 'flv', '-i', 'pipe:0');
  } else {
    args.push('-f', 'mpegts', '-i', 'pipe:0');
  }
  args.push('-map', '0:v?', '-map', '0:a?', '-c', 'copy');
  // MPEG-TS carries AAC as ADTS; MP4 needs raw AAC plus an AudioSpecificConfig, which is only
  // known after the first packet, hence delay_moov.
  const delay = o.input.kind === 'ts-pipe';
  if (delay) args.push('-bsf:a', 'aac_adtstoasc');
  const flags = ['empty_moov', 'default_base_moof', 'skip_sidx', 'skip_trailer'];
  if (delay) flags.push('delay_moov');
  args.push(
    '-f', 'mp4',
    '-movflags', '+' + flags.join('+'),
    '-frag_duration', String(o.fragmentUs),
    // prft: wall clock when FFmpeg wrote each fragment, the player's latency reference.
    '-write_prft', 'wallclock',
    '-flush_packets', '1',
    '-max_interleave_delta', '0',
    'pipe:1',
  );
  return args;
}

export interface TestSourceOptions {
  url: string;
  width: number;
  height: number;
  fps: number;
  /** Draw the wall clock as a 20-bit binary strip (ms mod 2^20) for pixel-read latency. */
  clockStrip?: boolean;
  /** Stop after this many seconds (default: run until killed). */
  durationS?: number;
  /** Video codec; HEVC only travels over SRT (MPEG-TS), FLV has no HEVC. Default h264. */
  videoCodec?: 'h264' | 'hevc';
  /** Video bitrate; with `cbr`, x264 pads to exactly this rate (for load tests). Default 1500. */
  videoKbps?: number;
  cbr?: boolean;
  /** AAC bitrate, kbit/s. Default 96. Over MPEG-TS with FFmpeg's defaults it sets how much audio a PES holds (2,930 bytes). */
  audioKbps?: number;
  /** `flv` for RTMP URLs, `mpegts` for SRT URLs. */
  format?: 'flv' | 'mpegts';
  /** MPEG-TS muxer options in place of the default `-flush_packets 1` (bench:glass --ingest srt:
   *  `[]` is FFmpeg's defaults, `-pes_payload_size 0 -muxdelay 0` the low-latency settings). */
  tsArgs?: string[];
}

/** Bit cells of the burned-in clock: CLOCK_BITS squares of CLOCK_CELL px, top-left, MSB first. */
export const CLOCK_BITS = 20;
export const CLOCK_CELL = 16;

/** A synthetic publisher: test pattern + running clock, x264 zerolatency, AAC, keyframe every 1 s. */
export function testSourceArgs(o: TestSourceOptions): string[] {
  const filters = [`drawtext=text='%{localtime\\:%T} %{pts\\:hms}':x=10:y=h-40:fontsize=28:fontcolor=white:box=1:boxcolor=black@0.6`];
  if (o.clockStrip) {
    // Each cell is white when its bit of the wall clock in ms is set. time(0) is read as the
    // filter draws the frame, which under -re is its capture moment.
    filters.push(`drawbox=x=0:y=0:w=${CLOCK_BITS * CLOCK_CELL}:h=${CLOCK_CELL}:color=black:t=fill`);
    for (let b = 0; b < CLOCK_BITS; b++) {
      const bit = CLOCK_BITS - 1 - b;
      filters.push(`drawbox=x=${b * CLOCK_CELL}:y=0:w=${CLOCK_CELL}:h=${CLOCK_CELL}:color=white:t=fill:enable='mod(floor(time(0)*1000/${2 ** bit}),2)'`);
    }
  }
  const kbps = o.videoKbps ?? 1500;
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'];
  args.push('-f', 'lavfi', '-i', `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`);
  args.push('-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  if (o.durationS) args.push('-t', String(o.durationS));
  args.push(
    '-vf', filters.join(','),
    ...(o.videoCodec === 'hevc'
      ? ['-c:v', 'libx265', '-preset', 'ultrafast', '-tune', 'zerolatency', '-x265-params', 'log-level=error']
      : ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency']),
    '-pix_fmt', 'yuv420p',
    '-g', String(o.fps), '-keyint_min', String(o.fps), '-sc_threshold', '0', '-b:v', `${kbps}k`,
    '-c:a', 'aac', '-b:a', `${o.audioKbps ?? 96}k`, '-ar', '48000', '-ac', '2',
  );
  if (o.cbr) args.push('-minrate', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps / 2}k`, '-x264-params', 'nal-hrd=cbr');
  if (o.format === 'mpegts') args.push('-f', 'mpegts', ...(o.tsArgs ?? ['-flush_packets', '1']), o.url);
  else args.push('-f', 'flv', '-flvflags', 'no_duration_filesize', o.url);
  return args;
}
