// Page script for /watch/NAME: plays ws(s)://<host>/live/NAME in #video and renders a
// small stats overlay into #stats. Exposes window.__nowcast = { player } for tests.
// URL contract (benchmarks rely on it):
//   /watch/NAME?policy=nowcast|none|seek|mpegts&target=MS&pinned=1&debug
// and optionally &min=MS&max=MS&minRate=R&maxRate=R&safari=auto|off|coarse|seek&worker=0&mse=auto|managed|classic&transport=auto|ws|hls
// (worker=0: MSE on the page's main thread instead of a dedicated worker). What the
// URL sets overrides the stream's hello.service; the rest comes from the relay.
// &token=T is passed on to the WebSocket (view tokens); each &edge=HOST:PORT adds a relay
// (edge) to fail over to, after this page's own host.
import { mountStatsPanel } from './panel.js';
import { STREAM_NAME_RE } from '../protocol/messages.js';
import { optionsFromQuery } from './config.js';
import { Player } from './index.js';
import { releaseEarly, type EarlyMedia } from './media-path.js';
import type { PlayerError, PlayerStats } from './index.js';
import type { EarlySocket } from './transport.js';

declare global {
  interface Window {
    __nowcast?: { player: Player; errors: PlayerError[] };
    /** The MSE worker the page's inline script started before this bundle loaded (ops/pages.ts). */
    __nowcastWorker?: Worker;
    /** Or the MediaSource it attached to #video, with its object URL. */
    __nowcastMediaSource?: { mediaSource: MediaSource; url: string };
    /** And with that MediaSource, the stream's socket and what it heard so far. */
    __nowcastSocket?: EarlySocket;
  }
}

const CSS = `
html, body { margin: 0; height: 100%; background: #000; }
#video { display: block; width: 100%; height: 100%; object-fit: contain; background: #000; }
#stats {
  position: fixed; top: 8px; left: 8px; padding: 6px 8px; border-radius: 4px;
  background: rgba(0, 0, 0, 0.65); color: #d8f5d0; font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace;
  white-space: pre; pointer-events: none; z-index: 1;
}
#stats .bad { color: #ff8a80; }
`;

function streamName(pathname: string): string | undefined {
  const m = /^\/watch\/([^/]+)\/?$/.exec(pathname);
  const name = m ? decodeURIComponent(m[1]!) : undefined;
  return name && STREAM_NAME_RE.test(name) ? name : undefined;
}

/** This host's /live/NAME, then one per ?edge=HOST:PORT, each with the page's ?token= if any. */
function streamUrls(scheme: string, name: string, q: URLSearchParams): string[] {
  const token = q.get('token');
  const suffix = `/live/${encodeURIComponent(name)}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  const hosts = [location.host, ...q.getAll('edge').filter((h) => /^[\w.\-\[\]:]+$/.test(h) && h !== location.host)];
  return hosts.map((h) => `${scheme}//${h}${suffix}`);
}

/** What the graph panel (panel.ts) doesn't show: policy, clock, events, and any error. */
function render(s: PlayerStats, note: string): string {
  const rows: Array<[string, string]> = [
    ['policy', `${s.policy}${s.pinned ? ' pinned' : ''}${s.safeMode !== 'off' ? ` safari:${s.safeMode}` : ''}, rate max ${s.maxRate.toFixed(2)}× (${s.reason})`],
    ['rtt', Number.isFinite(s.rtt) ? `${s.rtt.toFixed(1)} ms, clock ${s.clockOffsetMs >= 0 ? '+' : ''}${s.clockOffsetMs.toFixed(1)} ms` : '–'],
  ];
  if (s.reconnects || s.skips || s.gapJumps || s.jumps) {
    rows.push(['events', `${s.reconnects} reconnects, ${s.skips} skips, ${s.gapJumps} gap jumps, ${s.jumps} jumps`]);
  }
  const text = rows.map(([k, v]) => `${k.padEnd(8)} ${v}`).join('\n');
  return note ? `${text}\n${note}` : text;
}

function main(): void {
  // The early worker or MediaSource goes to the player, which uses or ends it; a page that fails ends it.
  const started = window.__nowcastMediaSource;
  const early: EarlyMedia = { worker: window.__nowcastWorker, mediaSource: started && { ms: started.mediaSource, url: started.url }, socket: window.__nowcastSocket };
  window.__nowcastWorker = window.__nowcastMediaSource = window.__nowcastSocket = undefined;
  const style = document.createElement('style');
  style.textContent = CSS;
  document.head.appendChild(style);

  const video = document.getElementById('video');
  const statsEl = document.getElementById('stats');
  if (!(video instanceof HTMLVideoElement) || !statsEl) {
    console.error('nowcast watch page: #video or #stats is missing');
    releaseEarly(early);
    return;
  }
  const name = streamName(location.pathname);
  if (!name) {
    statsEl.textContent = `Not a stream page: ${location.pathname}`;
    releaseEarly(early);
    return;
  }
  document.title = `${name} · Nowcast`;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let player: Player;
  try {
    const options = optionsFromQuery(new URLSearchParams(location.search));
    player = new Player(video, { ...options, url: streamUrls(scheme, name, new URLSearchParams(location.search)) }, early);
  } catch (e) {
    statsEl.textContent = `Bad player option: ${e instanceof Error ? e.message : String(e)}`;
    statsEl.classList.add('bad');
    releaseEarly(early);
    return;
  }
  const errors: PlayerError[] = [];
  window.__nowcast = { player, errors };

  let note = '';
  player.on('state', (e) => {
    if (e.state === 'offline') note = 'offline: waiting for the publisher';
    else if (e.state === 'error') note = `error ${e.code ?? ''}${e.message ? `: ${e.message}` : ''}`;
    else if (e.state === 'reconnecting') note = 'reconnecting…';
    else note = '';
  });
  player.on('error', (e) => {
    errors.push(e);
    if (errors.length > 50) errors.shift();
    if (e.fatal || e.code === 'AUTOPLAY_BLOCKED') note = `error ${e.code}: ${e.message}`;
  });
  // The live panel (latency graph, buffer, rate, bitrate, stalls), then the text rows.
  const panelEl = document.createElement('div');
  const textEl = document.createElement('div');
  statsEl.replaceChildren(panelEl, textEl);
  mountStatsPanel(panelEl, player);
  player.on('stats', (s) => {
    textEl.textContent = render(s, note);
    statsEl.classList.toggle('bad', s.state === 'error' || s.state === 'offline');
  });
  // Autoplay can be refused even muted; any click starts playback.
  document.addEventListener('click', () => void video.play().catch(() => undefined));
}

main();
