// The built-in dashboard at /dashboard: one plain HTML page, no dependencies. It polls /metrics
// (Prometheus text) and /api/streams every 2 s, keeps the last 5 minutes in the browser, and
// draws each series as inline SVG. For anything longer, use Prometheus + docs/grafana/nowcast.json.

const SCRIPT = String.raw`
const POLL_MS = 2000, KEEP_MS = 5 * 60 * 1000;
const COLORS = ['#7cc4ff', '#ffb86b', '#8be28b', '#ff8a80', '#d6a2ff', '#f1e05a', '#5fd3c6', '#ff79c6'];
const history = []; // { t, viewers: {stream: n}, outBps: {stream: bps}, chunkRate: {stream: n/s}, sentRate, inBps, p50: {stream: s}, p95 }
let prev = null;

// Prometheus text format: name{a="b",c="d"} value
function parse(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[2]) for (const l of m[2].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    if (!out.has(m[1])) out.set(m[1], []);
    out.get(m[1]).push({ labels, value: Number(m[3]) });
  }
  return out;
}
const byStream = (m, name, filter = () => true) => {
  const o = {};
  for (const s of m.get(name) || []) if (filter(s.labels)) o[s.labels.stream] = (o[s.labels.stream] || 0) + s.value;
  return o;
};
const sum = (m, name, filter = () => true) => (m.get(name) || []).filter((s) => filter(s.labels)).reduce((a, s) => a + s.value, 0);
const rate = (now, before, dt) => {
  const o = {};
  for (const k of Object.keys(now)) o[k] = Math.max(0, (now[k] - (before[k] || 0)) / dt);
  return o;
};

async function poll() {
  try {
    const [mt, st] = await Promise.all([fetch('/metrics').then((r) => r.text()), fetch('/api/streams').then((r) => r.json())]);
    const t = Date.now();
    const m = parse(mt);
    const cur = { t, out: byStream(m, 'nowcast_egress_bytes_total'), chunks: byStream(m, 'nowcast_chunks_total'), sent: byStream(m, 'nowcast_chunks_sent_total') };
    const p = { t, viewers: byStream(m, 'nowcast_viewers'), inBps: byStream(m, 'nowcast_stream_ingest_bits_per_second'), p50: {}, p95: {} };
    for (const s of st.streams) if (s.latency) { p.p50[s.name] = s.latency.p50Ms / 1000; if (s.latency.p95Ms !== null) p.p95[s.name] = s.latency.p95Ms / 1000; }
    if (prev) {
      const dt = (t - prev.t) / 1000;
      const outRate = rate(cur.out, prev.out, dt);
      for (const k of Object.keys(outRate)) outRate[k] *= 8;
      p.outBps = outRate;
      p.chunkRate = rate(cur.chunks, prev.chunks, dt);
      p.sentRate = rate(cur.sent, prev.sent, dt);
      history.push(p);
    }
    prev = cur;
    while (history.length && history[0].t < t - KEEP_MS) history.shift();
    tiles(m, st);
    table(st);
    draw();
    document.getElementById('status').textContent = 'updated ' + new Date(t).toLocaleTimeString();
  } catch (e) {
    document.getElementById('status').textContent = 'cannot reach the relay: ' + e;
  }
}

function fmt(v, unit) {
  if (!Number.isFinite(v)) return '–';
  if (unit === 'bps') return v >= 1e6 ? (v / 1e6).toFixed(2) + ' Mb/s' : (v / 1e3).toFixed(0) + ' kb/s';
  if (unit === 's') return Math.round(v * 1000) + ' ms';
  if (unit === '/s') return (v < 10 ? v.toFixed(1) : Math.round(v)) + '/s';
  return String(Math.round(v * 100) / 100);
}

function tiles(m, st) {
  const items = [
    ['live streams', sum(m, 'nowcast_streams', (l) => l.state === 'live')],
    ['publishers', sum(m, 'nowcast_publishers')],
    ['viewers', sum(m, 'nowcast_viewers')],
    ['out', fmt(Object.values((history.at(-1) || {}).outBps || {}).reduce((a, b) => a + b, 0), 'bps')],
    ['ffmpeg restarts', sum(m, 'nowcast_ffmpeg_restarts_total', (l) => l.reason === 'failure')],
    ['backpressure', sum(m, 'nowcast_backpressure_events_total')],
    ['chunks skipped', sum(m, 'nowcast_chunks_skipped_total')],
  ];
  const el = document.getElementById('tiles');
  el.replaceChildren(...items.map(([k, v]) => {
    const d = document.createElement('div');
    d.className = 'tile';
    d.innerHTML = '<b></b><span></span>';
    d.firstChild.textContent = v;
    d.lastChild.textContent = k;
    return d;
  }));
}

function table(st) {
  const tb = document.querySelector('#streams tbody');
  tb.replaceChildren(...st.streams.map((s) => {
    const tr = document.createElement('tr');
    const cells = [s.name, s.state, s.codecs || '–', fmt(s.bitrate, 'bps'), s.viewers,
      s.keyframeIntervalS != null ? s.keyframeIntervalS.toFixed(2) + ' s' : '–',
      s.latency ? fmt(s.latency.p50Ms / 1000, 's') + ' / ' + fmt(s.latency.p95Ms / 1000, 's') : '–'];
    for (const c of cells) { const td = document.createElement('td'); td.textContent = c; tr.append(td); }
    return tr;
  }));
}

// One chart: series = [{ name, points: [[t, v]] }], drawn as SVG polylines.
function chart(id, title, series, unit) {
  const W = 560, H = 180, L = 64, R = 8, T = 24, B = 22;
  const now = Date.now();
  // The x axis spans what this tab has seen: at least a minute, at most KEEP_MS.
  const span = Math.min(KEEP_MS, Math.max(60000, history.length ? now - history[0].t : 0)), t0 = now - span;
  let top = 0;
  for (const s of series) for (const [, v] of s.points) top = Math.max(top, v);
  // Nice ticks: 1, 2 or 5 × 10^k, whole numbers for counts.
  const raw = (top > 0 ? top * 1.1 : 1) / 4;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  let step = [1, 2, 5, 10].map((k) => k * mag).find((v) => v >= raw);
  if (unit === '') step = Math.max(1, Math.round(step));
  const max = step * Math.max(1, Math.ceil((top * 1.1) / step));
  const x = (t) => L + ((t - t0) / span) * (W - L - R);
  const y = (v) => T + (1 - v / max) * (H - T - B);
  let svg = '<svg viewBox="0 0 ' + W + ' ' + H + '" width="100%" role="img" aria-label="' + title + '">';
  svg += '<text x="' + L + '" y="15" class="title">' + title + '</text>';
  for (let v = 0; v <= max + step / 2; v += step) {
    svg += '<line x1="' + L + '" x2="' + (W - R) + '" y1="' + y(v) + '" y2="' + y(v) + '" class="grid"/>';
    svg += '<text x="' + (L - 6) + '" y="' + (y(v) + 4) + '" class="axis" text-anchor="end">' + fmt(v, unit) + '</text>';
  }
  const tick = span <= 120000 ? 15000 : 60000;
  for (let d = 0; d <= span; d += tick) {
    const label = d === 0 ? 'now' : d % 60000 ? '-' + d / 1000 + ' s' : '-' + d / 60000 + ' min';
    svg += '<text x="' + x(now - d) + '" y="' + (H - 6) + '" class="axis" text-anchor="' + (d === 0 ? 'end' : 'middle') + '">' + label + '</text>';
  }
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    if (s.points.length) svg += '<polyline fill="none" stroke="' + c + '" stroke-width="2"' + (s.dash ? ' stroke-dasharray="5 4"' : '') +
      ' points="' + s.points.map(([t, v]) => x(t).toFixed(1) + ',' + y(v).toFixed(1)).join(' ') + '"/>';
    svg += '<text x="' + (W - R - 4) + '" y="' + (T + 12 + 15 * i) + '" fill="' + c + '" class="legend" text-anchor="end"></text>';
  });
  svg += '</svg>';
  const el = document.getElementById(id);
  el.innerHTML = svg;
  // Legend text via textContent: stream names never reach innerHTML.
  const texts = el.querySelectorAll('text.legend');
  series.forEach((s, i) => { const last = s.points.at(-1); texts[i].textContent = s.name + (last ? '  ' + fmt(last[1], unit) : ''); });
  if (!series.length) el.querySelector('text.title').textContent = title + ' — no data yet';
}

function seriesOf(key, suffix = '', dash = false) {
  const names = new Set();
  for (const p of history) for (const k of Object.keys(p[key] || {})) names.add(k);
  return [...names].sort().map((n) => ({ name: n + suffix, dash, points: history.filter((p) => p[key] && n in p[key]).map((p) => [p.t, p[key][n]]) }));
}

function draw() {
  chart('c-viewers', 'Viewers per stream', seriesOf('viewers'), '');
  chart('c-out', 'Bytes out (estimate), per stream', seriesOf('outBps'), 'bps');
  chart('c-chunks', 'Chunks in and sent per second', [...seriesOf('chunkRate', ' in'), ...seriesOf('sentRate', ' sent', true)], '/s');
  chart('c-latency', 'Viewers\' latency p50 / p95 (QoE)', [...seriesOf('p50', ' p50'), ...seriesOf('p95', ' p95', true)], 's');
}

poll();
setInterval(poll, POLL_MS);
`;

export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Nowcast — dashboard</title>
<style>
  html,body{margin:0;background:#0b0d10;color:#dfe3e8;font:14px/1.5 system-ui,sans-serif}
  main{max-width:1200px;margin:1.2rem auto;padding:0 1rem} a{color:#7cc4ff} h1{font-size:1.3rem;margin:.2rem 0 .8rem}
  #status{color:#8a939d;font-size:12px;margin-left:.6rem;font-weight:normal}
  #tiles{display:flex;gap:.6rem;flex-wrap:wrap;margin-bottom:1rem}
  .tile{background:#151a20;border:1px solid #232a32;border-radius:6px;padding:.5rem .8rem;min-width:7.5rem}
  .tile b{display:block;font-size:1.35rem} .tile span{color:#8a939d;font-size:12px}
  #charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:.8rem}
  #charts>div{background:#151a20;border:1px solid #232a32;border-radius:6px;padding:.4rem}
  svg text{fill:#8a939d;font:11px system-ui,sans-serif} svg text.title{fill:#dfe3e8;font-size:13px}
  svg text.legend{font-size:12px} svg line.grid{stroke:#232a32}
  table{border-collapse:collapse;width:100%;margin-top:1rem;background:#151a20}
  th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #232a32} th{color:#8a939d;font-weight:normal}
</style></head><body><main>
<h1>Nowcast<span id="status">loading…</span></h1>
<div id="tiles"></div>
<div id="charts"><div id="c-viewers"></div><div id="c-out"></div><div id="c-chunks"></div><div id="c-latency"></div></div>
<table id="streams"><thead><tr><th>stream</th><th>state</th><th>codecs</th><th>ingest</th><th>viewers</th><th>keyframe interval</th><th>latency p50 / p95</th></tr></thead><tbody></tbody></table>
<p style="color:#8a939d;font-size:12px">Polls <a href="/metrics">/metrics</a> and <a href="/api/streams">/api/streams</a> every 2 s and keeps 5 minutes in this tab.</p>
<script>${SCRIPT}</script>
</main></body></html>`;
}
