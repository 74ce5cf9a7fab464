// The two HTML pages the relay serves. Plain strings: no template engine for two pages.
import { EARLY_SOCKET_MAX_BYTES, EARLY_SOCKET_MAX_MESSAGES, STREAM_NAME_RE } from '../protocol/messages.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const head = (title: string): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title>
<style>
  html,body{margin:0;background:#0b0d10;color:#dfe3e8;font:15px/1.5 system-ui,sans-serif}
  main{max-width:760px;margin:2rem auto;padding:0 1rem} a{color:#7cc4ff}
  code{background:#1b1f24;padding:.1em .3em;border-radius:3px} li{margin:.3rem 0}
</style></head>`;

export function indexPage(): string {
  return `${head('Nowcast — live streams')}<body><main>
<h1>Live streams</h1>
<ul id="streams"><li>Loading…</li></ul>
<p>Publish with OBS to <code>rtmp://HOST/live</code>, stream key <code>NAME</code>, then watch at <code>/watch/NAME</code>.</p>
<script>
async function refresh() {
  try {
    const r = await fetch('/streams.json');
    const { streams } = await r.json();
    const ul = document.getElementById('streams');
    ul.replaceChildren();
    const live = streams.filter((s) => s.state === 'live');
    if (!live.length) { const li = document.createElement('li'); li.textContent = 'No live streams yet.'; ul.append(li); }
    for (const s of live) {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = '/watch/' + encodeURIComponent(s.name);
      a.textContent = s.name;
      li.append(a, ' — ' + s.viewers + ' viewer' + (s.viewers === 1 ? '' : 's'));
      ul.append(li);
    }
  } catch (e) { /* the relay may be restarting; try again */ }
}
refresh(); setInterval(refresh, 2000);
</script></main></body></html>`;
}

/**
 * Starts the media side while watch.js downloads and runs, where the player will want it: the
 * MSE worker (a worker takes 50–80 ms to start in Chromium), or else the MediaSource attached
 * to the <video> (30–75 ms of WebKitGTK's main thread, its media pipeline built) and the
 * stream's socket, whose messages wait in order for the player: its handshake and the join
 * burst overlap the bundle's download and run (Firefox's first frame 226 → 196 ms, median of 8
 * warm joins; WebKitGTK's appends wait on its pipeline, not on the socket: no change). The
 * worker starts from its source in this page (`workerSource`, dist/player/mse-worker.js), not
 * from a URL (its fetch would be one more round trip), and is told the socket's URL at once
 * (`connect`, player/worker.ts): over an 80 ms path Chromium's first frame in a worker went
 * from 476–515 ms to 404–435 (on the page: 357–395). The player takes them over (player/watch.ts passes them as EarlyMedia,
 * player/media-path.ts, player/transport.ts) or ends them. Its choices, mirrored: worker where a
 * worker's MediaSource plays, unless ?worker=0 or a ManagedMediaSource is asked for
 * (?mse=managed) and exists; the MediaSource by ?mse=; nothing for ?transport=hls. The stream is
 * the page's path, as player/watch.ts reads it (the page is the same for every stream, so it is
 * built and compressed once); the socket goes to this host's /live/NAME with the page's ?token=,
 * as player/watch.ts's first URL, and closes itself past EARLY_SOCKET_MAX_MESSAGES or _BYTES
 * (a bundle that never loads). Plain ES5 in the HTML, after the <video>: no extra request.
 */
/** A value as a JS literal that is safe inside a <script> element. */
const literal = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
const earlyMedia = (workerSource: string | undefined): string => `<script>(function () {
  var q = location.search, has = function (re) { return re.test(q); };
  var M = window.MediaSource, MM = window.ManagedMediaSource, v = document.getElementById('video');
  try {
    var path = /^\\/watch\\/([^/]+)\\/?$/.exec(location.pathname), name = path ? decodeURIComponent(path[1]) : '';
    if (!${STREAM_NAME_RE.toString()}.test(name)) return;
    document.title = name + ' \u2014 Nowcast';
    if (has(/[?&]transport=hls(&|$)/)) return;
    var managed = has(/[?&]mse=managed(&|$)/), classic = has(/[?&]mse=classic(&|$)/);
    var token = new URLSearchParams(q).get('token');
    var wsUrl = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/live/' + encodeURIComponent(name) + (token ? '?token=' + encodeURIComponent(token) : '');
    if (M && M.canConstructInDedicatedWorker === true && typeof Worker === 'function' && !has(/[?&]worker=(0|false)(&|$)/) && !(managed && MM)) {
      var src = ${literal(workerSource ?? null)};
      var wurl = src ? URL.createObjectURL(new Blob([src], { type: 'text/javascript' })) : '/player/mse-worker.js';
      var w = window.__nowcastWorker = new Worker(wurl, { name: 'nowcast-mse' });
      if (src) URL.revokeObjectURL(wurl); // the worker holds what it needs once constructed
      w.postMessage({ type: 'connect', url: wsUrl });
      return;
    }
    var C = managed ? MM || M : classic ? M : M || MM;
    if (!C || !v) return;
    var ms = new C();
    if (MM && ms instanceof MM) v.disableRemotePlayback = true; // else it never opens
    var url = URL.createObjectURL(ms);
    v.src = url;
    window.__nowcastMediaSource = { mediaSource: ms, url: url };
    var ws = new WebSocket(wsUrl), events = [], bytes = 0;
    ws.binaryType = 'arraybuffer';
    ws.onopen = function () { events.push(['open']); };
    ws.onmessage = function (e) {
      events.push(['message', e.data]);
      bytes += e.data.byteLength || e.data.length || 0;
      if (events.length < ${EARLY_SOCKET_MAX_MESSAGES} && bytes < ${EARLY_SOCKET_MAX_BYTES}) return;
      ws.onmessage = null;
      ws.close();
    };
    ws.onclose = function (e) { events.push(['close', e.code, e.reason]); };
    window.__nowcastSocket = { ws: ws, url: wsUrl, events: events };
  } catch (e) {}
})();</script>`;

/**
 * /watch/NAME: the same page for every stream (the stream is its path). `workerSource`: the MSE
 * worker's script, started from the page; without it the page starts /player/mse-worker.js.
 */
export function watchPage(workerSource?: string): string {
  // modulepreload: the bundle's fetch starts while the head is parsed, not once the body is.
  return `${head('Nowcast').replace('</head>', '<link rel="modulepreload" href="/player/watch.js"></head>')}<body style="margin:0;overflow:hidden">
<video id="video" autoplay muted playsinline style="width:100vw;height:100vh;background:#000;display:block"></video>
${earlyMedia(workerSource)}
<div id="stats"></div>
<script type="module" src="/player/watch.js"></script>
</body></html>`;
}
