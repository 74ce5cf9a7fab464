// A live stats panel for the watch page: a latency graph of the last 30 s (canvas) with the
// target, and rows for buffer, rate, bitrate, stalls and frames. It reads `player.stats` about
// four times a second; it needs nothing else from the player, so any object with those fields
// will do. No dependencies, no global CSS: everything is scoped to the element it mounts in.
//
//   import { mountStatsPanel } from './panel.js';
//   const panel = mountStatsPanel(document.getElementById('stats')!, player);
//   // panel.destroy() stops polling and empties the element.

/** The fields the panel reads; every one is optional and may be NaN (shown as –). */
export interface PanelStats {
  /** Wall-clock latency (s) of the frame on screen. */
  latency?: unknown;
  /** The controller's target latency (s). */
  targetLatency?: unknown;
  /** Seconds buffered ahead. */
  buffer?: unknown;
  playbackRate?: unknown;
  /** Bits per second received. */
  bitrate?: unknown;
  stalls?: unknown;
  stallMs?: unknown;
  droppedFrames?: unknown;
  decodedFrames?: unknown;
  state?: unknown;
}

export interface StatsSource {
  readonly stats: PanelStats;
  /** If present, state changes redraw at once instead of on the next tick. */
  on?(event: 'state', fn: (e: unknown) => void): unknown;
  off?(event: 'state', fn: (e: unknown) => void): unknown;
}

export interface PanelOptions {
  /** Poll period (ms). */
  intervalMs?: number;
  /** Seconds of latency history in the graph. */
  windowS?: number;
  /** Canvas size in CSS pixels. */
  width?: number;
  height?: number;
}

export interface StatsPanel {
  /** Stops polling, removes listeners and empties the element. Safe to call twice. */
  destroy(): void;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const ms = (s: number): string => (Number.isFinite(s) ? `${Math.round(s * 1000)} ms` : '–');
const ROWS = ['state', 'latency', 'target', 'buffer', 'rate', 'bitrate', 'stalls', 'frames'] as const;

const COLORS = { latency: '#8be28b', target: '#ffb86b', buffer: '#7cc4ff', grid: 'rgba(255,255,255,0.12)', text: '#9aa4ad' };

export function mountStatsPanel(el: HTMLElement, player: StatsSource, opts: PanelOptions = {}): StatsPanel {
  const intervalMs = opts.intervalMs ?? 250;
  const windowMs = (opts.windowS ?? 30) * 1000;
  const width = opts.width ?? 260;
  const height = opts.height ?? 90;

  const root = document.createElement('div');
  root.className = 'nowcast-panel';
  root.style.cssText = 'font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;color:#d8f5d0;min-width:' + width + 'px';
  const canvas = document.createElement('canvas');
  const dpr = Math.max(1, Math.min(3, globalThis.devicePixelRatio || 1));
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.cssText = `display:block;width:${width}px;height:${height}px;margin-bottom:4px`;
  const legend = document.createElement('div');
  legend.style.cssText = 'font-size:11px;margin-bottom:2px';
  legend.innerHTML = `<span style="color:${COLORS.latency}">━ latency</span>  <span style="color:${COLORS.target}">┅ target</span>  <span style="color:${COLORS.buffer}">━ buffer</span>`;
  const table = document.createElement('div');
  table.style.whiteSpace = 'pre';
  const cells = new Map<string, HTMLSpanElement>();
  for (const k of ROWS) {
    const row = document.createElement('div');
    const key = document.createElement('span');
    key.textContent = k.padEnd(8) + ' ';
    key.style.color = COLORS.text;
    const val = document.createElement('span');
    row.append(key, val);
    table.append(row);
    cells.set(k, val);
  }
  root.append(legend, canvas, table);
  el.replaceChildren(root);
  const ctx = canvas.getContext('2d');

  // Samples of the last window: [t (ms), latency (s), target (s), buffer (s)].
  const samples: Array<[number, number, number, number]> = [];

  const set = (k: (typeof ROWS)[number], text: string, bad = false): void => {
    const c = cells.get(k)!;
    if (c.textContent !== text) c.textContent = text;
    c.style.color = bad ? '#ff8a80' : '';
  };

  const draw = (now: number): void => {
    if (!ctx) return;
    const w = canvas.width;
    const h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    let max = 0.25;
    for (const [, l, t, b] of samples) for (const v of [l, t, b]) if (Number.isFinite(v) && v > max) max = v;
    max *= 1.15;
    const x = (t: number): number => ((t - (now - windowMs)) / windowMs) * w;
    const y = (v: number): number => h - (Math.max(0, v) / max) * (h - 12 * dpr) - 1;
    ctx.lineWidth = dpr;
    ctx.strokeStyle = COLORS.grid;
    ctx.fillStyle = COLORS.text;
    ctx.font = `${10 * dpr}px ui-monospace,monospace`;
    const step = max > 2 ? 1 : max > 0.8 ? 0.25 : 0.1;
    for (let v = step; v < max; v += step) {
      ctx.beginPath();
      ctx.moveTo(0, y(v));
      ctx.lineTo(w, y(v));
      ctx.stroke();
      ctx.fillText(`${Math.round(v * 1000)}`, 2, y(v) - 2);
    }
    const line = (i: 1 | 2 | 3, color: string, dash: number[]): void => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5 * dpr;
      ctx.setLineDash(dash.map((d) => d * dpr));
      ctx.beginPath();
      let pen = false;
      for (const s of samples) {
        const v = s[i];
        if (!Number.isFinite(v)) { pen = false; continue; }
        if (pen) ctx.lineTo(x(s[0]), y(v));
        else ctx.moveTo(x(s[0]), y(v));
        pen = true;
      }
      ctx.stroke();
      ctx.setLineDash([]);
    };
    line(3, COLORS.buffer, []);
    line(2, COLORS.target, [4, 3]);
    line(1, COLORS.latency, []);
  };

  const tick = (): void => {
    let s: PanelStats;
    try {
      s = player.stats;
    } catch {
      return; // a destroyed player may throw; keep the last picture
    }
    const now = performance.now();
    const latency = num(s.latency);
    const target = num(s.targetLatency);
    const buffer = num(s.buffer);
    samples.push([now, latency, target, buffer]);
    while (samples.length && samples[0]![0] < now - windowMs) samples.shift();
    const stalls = num(s.stalls);
    const rate = num(s.playbackRate);
    const bitrate = num(s.bitrate);
    const dropped = num(s.droppedFrames);
    const decoded = num(s.decodedFrames);
    set('state', typeof s.state === 'string' ? s.state : '–', s.state === 'error');
    set('latency', ms(latency), Number.isFinite(latency) && Number.isFinite(target) && latency > target * 2);
    set('target', ms(target));
    set('buffer', ms(buffer), Number.isFinite(buffer) && buffer < 0.05);
    set('rate', Number.isFinite(rate) ? `${rate.toFixed(2)}×` : '–');
    set('bitrate', Number.isFinite(bitrate) ? `${Math.round(bitrate / 1000)} kb/s` : '–');
    set('stalls', Number.isFinite(stalls) ? `${stalls} (${Math.round(num(s.stallMs) || 0)} ms)` : '–', stalls > 0);
    set('frames', Number.isFinite(decoded) ? `${Number.isFinite(dropped) ? dropped : 0} dropped / ${decoded}` : '–', dropped > 0);
    draw(now);
  };

  const onState = (): void => tick();
  player.on?.('state', onState);
  const timer = setInterval(tick, intervalMs);
  tick();

  let destroyed = false;
  return {
    destroy(): void {
      if (destroyed) return;
      destroyed = true;
      clearInterval(timer);
      player.off?.('state', onState);
      el.replaceChildren();
    },
  };
}
