// Delivery latency vs viewers, one colour per sender, p99 solid and p50 dashed, log-scale
// latency axis. Plain SVG text, no dependencies.

export interface Series {
  name: string;
  color: string;
  /** `hollow`: drawn as an open marker (for a sender that was overloaded there). */
  points: Array<{ n: number; p50: number; p99: number; hollow?: boolean }>;
  /** Markers only, no line (e.g. a single measured variant). */
  markersOnly?: boolean;
  marker?: 'circle' | 'diamond';
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function latencySvg(series: Series[], opts: { title: string; targetMs?: number; maxN?: number; subtitle?: string }): string {
  const W = 760;
  const H = 460;
  const m = { l: 70, r: 200, t: 56, b: 56 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = series.flatMap((s) => s.points.flatMap((p) => [p.p50, p.p99])).filter((v) => Number.isFinite(v) && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.max(0.01, Math.min(...all, 1))));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...all, opts.targetMs ?? 1, 10)));
  const maxN = opts.maxN ?? Math.max(...series.flatMap((s) => s.points.map((p) => p.n)));
  const x = (n: number): number => m.l + (n / maxN) * pw;
  const y = (v: number): number => m.t + ph - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${m.l}" y="22" font-size="15" font-weight="bold">${esc(opts.title)}</text>`);
  if (opts.subtitle) out.push(`<text x="${m.l}" y="40" fill="#555">${esc(opts.subtitle)}</text>`);
  // grid: decades and 2x/5x
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    for (const k of [1, 2, 5]) {
      const v = d * k;
      if (v > hi * 1.0001) break;
      const yy = y(v).toFixed(1);
      out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${yy}" y2="${yy}" stroke="${k === 1 ? '#ccc' : '#eee'}"/>`);
      if (k === 1 || ph / (Math.log10(hi) - Math.log10(lo)) > 60) {
        out.push(`<text x="${m.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v >= 1 ? v.toFixed(0) : v.toString()}</text>`);
      }
    }
  }
  const step = maxN > 4000 ? 1000 : maxN > 1000 ? 500 : 100;
  for (let n = 0; n <= maxN; n += step) {
    const xx = x(n).toFixed(1);
    out.push(`<line x1="${xx}" x2="${xx}" y1="${m.t}" y2="${m.t + ph}" stroke="#eee"/>`);
    out.push(`<text x="${xx}" y="${m.t + ph + 18}" text-anchor="middle">${n}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="${H - 14}" text-anchor="middle">viewers (2 Mbit/s each, 30 chunks/s)</text>`);
  out.push(`<text transform="translate(18 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">delivery latency, ms (log)</text>`);
  if (opts.targetMs) {
    const yy = y(opts.targetMs).toFixed(1);
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${yy}" y2="${yy}" stroke="#d00" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${m.l + 4}" y="${(y(opts.targetMs) - 4).toFixed(1)}" fill="#d00">target p99 ${opts.targetMs} ms</text>`);
  }
  const mark = (s: Series, cx: number, cy: number, hollow: boolean): string => {
    const fill = hollow ? 'white' : s.color;
    if (s.marker === 'diamond') return `<path d="M${cx.toFixed(1)} ${(cy - 6).toFixed(1)} l6 6 l-6 6 l-6 -6 z" fill="${fill}" stroke="${s.color}" stroke-width="1.5"/>`;
    return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${hollow ? 4 : 3}" fill="${fill}" stroke="${s.color}" stroke-width="1.5"/>`;
  };
  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p.p99)).sort((a, b) => a.n - b.n);
    for (const [key, dash] of [['p99', ''], ['p50', ' stroke-dasharray="6 4"']] as const) {
      const d = pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.n).toFixed(1)} ${y(p[key]).toFixed(1)}`).join(' ');
      if (d && !s.markersOnly) out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
      for (const p of pts) out.push(mark(s, x(p.n), y(p[key]), !!p.hollow));
    }
  }
  let ly = m.t + 10;
  for (const s of series) {
    if (s.markersOnly) out.push(mark(s, m.l + pw + 30, ly, false));
    else out.push(`<line x1="${m.l + pw + 16}" x2="${m.l + pw + 44}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    const words = s.name.split(' ');
    // Two lines at most, so long names fit the legend column.
    const first: string[] = [];
    while (words.length && (first.join(' ') + ' ' + words[0]).length <= 20) first.push(words.shift()!);
    out.push(`<text x="${m.l + pw + 50}" y="${ly + 4}">${esc(first.join(' ') || words.shift()!)}</text>`);
    if (words.length) { ly += 14; out.push(`<text x="${m.l + pw + 50}" y="${ly + 4}">${esc(words.join(' '))}</text>`); }
    ly += 20;
  }
  ly += 6;
  out.push(`<line x1="${m.l + pw + 16}" x2="${m.l + pw + 44}" y1="${ly}" y2="${ly}" stroke="#333" stroke-width="2"/>`);
  out.push(`<text x="${m.l + pw + 50}" y="${ly + 4}">p99</text>`);
  ly += 20;
  out.push(`<line x1="${m.l + pw + 16}" x2="${m.l + pw + 44}" y1="${ly}" y2="${ly}" stroke="#333" stroke-width="2" stroke-dasharray="6 4"/>`);
  out.push(`<text x="${m.l + pw + 50}" y="${ly + 4}">p50</text>`);
  ly += 22;
  out.push(`<circle cx="${m.l + pw + 30}" cy="${ly}" r="4" fill="white" stroke="#333" stroke-width="1.5"/>`);
  out.push(`<text x="${m.l + pw + 50}" y="${ly + 4}">overloaded: took</text>`);
  out.push(`<text x="${m.l + pw + 50}" y="${ly + 18}">chunks late, so the</text>`);
  out.push(`<text x="${m.l + pw + 50}" y="${ly + 32}">figure understates</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
