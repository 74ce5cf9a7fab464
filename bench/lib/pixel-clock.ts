// Reads the wall clock burned into each presented frame by the test source (see
// ingest/ffmpeg-args.ts: CLOCK_BITS cells of CLOCK_CELL px, top-left, MSB first, white = 1),
// so glass-to-glass latency is measured from pixels, not from the player's bookkeeping.
// `pixelClockScript` runs in the page; results accumulate on window.__glass.
import { CLOCK_BITS, CLOCK_CELL } from '../../ingest/ffmpeg-args.js';

export interface GlassSample {
  /** Wall clock (ms) when the frame was presented. */
  shownAt: number;
  /** shownAt − capture time read from the pixels, ms. */
  latencyMs: number;
}

export interface GlassState {
  samples: GlassSample[];
  /** Wall clock (ms) of the first presented frame. */
  firstFrameAt: number;
  /** Frames whose strip could not be read (e.g. decoded before a keyframe). */
  unreadable: number;
}

/**
 * Browser-side installer, as source text: a transpiled function would carry helpers of the
 * Node-side build (tsx wraps named functions in `__name`) that don't exist in the page.
 * Use with page.addInitScript({ content: pixelClockScript(pixelClockArgs) }).
 */
export function pixelClockScript(a: { bits: number; cell: number; videoSelector: string; sourceHeight?: number }): string {
  return `(() => {
  const bits = ${a.bits}, sel = ${JSON.stringify(a.videoSelector)}, sourceHeight = ${a.sourceHeight ?? 0};
  let cell = ${a.cell};
  const state = { samples: [], firstFrameAt: 0, unreadable: 0 };
  window.__glass = state;
  const canvas = document.createElement('canvas');
  canvas.width = bits * cell; canvas.height = cell;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const mod = 2 ** bits;
  const start = () => {
    const video = document.querySelector(sel);
    if (!video) { setTimeout(start, 20); return; }
    let handle = 0;
    const onFrame = (now, meta) => {
      const shownAt = performance.timeOrigin + meta.expectedDisplayTime;
      if (!state.firstFrameAt) state.firstFrameAt = shownAt;
      // An ABR rendition shows the strip scaled: its cells follow the frame's height.
      const scaled = sourceHeight && video.videoHeight ? Math.round(${a.cell} * video.videoHeight / sourceHeight) : cell;
      if (scaled !== cell) { cell = scaled; canvas.width = bits * cell; canvas.height = cell; }
      // Only the strip: source pixels 0..bits*cell x 0..cell, 1:1.
      ctx.drawImage(video, 0, 0, bits * cell, cell, 0, 0, bits * cell, cell);
      const px = ctx.getImageData(0, 0, bits * cell, cell).data;
      let v = 0, ok = true;
      for (let b = 0; b < bits; b++) {
        const i = ((cell >> 1) * bits * cell + b * cell + (cell >> 1)) * 4;
        const y = (px[i] + px[i + 1] + px[i + 2]) / 3;
        if (y > 96 && y < 160) ok = false; // neither black nor white: not our strip
        v = v * 2 + (y >= 128 ? 1 : 0);
      }
      if (ok) state.samples.push({ shownAt, latencyMs: (((Math.round(shownAt) % mod) - v) % mod + mod) % mod });
      else state.unreadable++;
      handle = video.requestVideoFrameCallback(onFrame);
    };
    // A new MediaSource runs the media element's load algorithm, which drops pending
    // callbacks, so re-arm whenever playback (re)starts.
    const arm = () => {
      if (handle) video.cancelVideoFrameCallback(handle);
      handle = video.requestVideoFrameCallback(onFrame);
    };
    for (const e of ['loadedmetadata', 'playing', 'seeked']) video.addEventListener(e, arm);
    arm();
  };
  start();
})();`;
}

export const pixelClockArgs = { bits: CLOCK_BITS, cell: CLOCK_CELL, videoSelector: 'video' };

/** The relay's nearest-rank percentile, so benchmarks and /api/streams agree on the definition. */
export { percentile } from '../../relay/qoe.js';
