// The house rules (issue 21), checked on the source: which folder may import which, nothing
// imports app/, the player imports only the protocol, and there are no import circles (type-only
// imports included: they are circles a reader has to untangle all the same).
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What each folder may import, besides itself. The ground floor first. */
const ALLOWED: Record<string, readonly string[]> = {
  protocol: [],
  media: ['protocol'],
  util: [],
  ingest: ['media', 'protocol', 'util'],
  relay: ['media', 'protocol', 'util'],
  hls: ['media', 'protocol', 'util'],
  admission: ['util'],
  ops: ['protocol', 'util'],
  cluster: ['media', 'protocol', 'util'],
  abr: ['media', 'protocol', 'util', 'ingest'],
  player: ['protocol'],
  app: ['protocol', 'media', 'util', 'ingest', 'relay', 'hls', 'admission', 'ops', 'cluster', 'abr'],
};

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(join(ROOT, p)).isDirectory()) return sources(p);
    return /\.ts$/.test(f) && !f.endsWith('.d.ts') ? [p] : [];
  });
}

const files = Object.keys(ALLOWED).flatMap(sources);
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Every relative import of a file, as a repo path ending in .ts. */
function imports(file: string): string[] {
  const src = readFileSync(join(ROOT, file), 'utf8');
  return [...src.matchAll(IMPORT)].map((m) => normalize(join(dirname(file), (m[1] ?? m[2])!)).replace(/\.js$/, '.ts'));
}

const graph = new Map(files.map((f) => [f, imports(f)]));
const folder = (p: string): string => p.split('/')[0]!;

describe('the source layout', () => {
  it('imports across folders only downward, as each folder allows', () => {
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      for (const d of deps) {
        const a = folder(f);
        const b = folder(d);
        if (a !== b && !ALLOWED[a]!.includes(b)) bad.push(`${f} -> ${d}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('has nothing outside app/ importing app/', () => {
    const bad = [...graph].flatMap(([f, deps]) => (folder(f) === 'app' ? [] : deps.filter((d) => folder(d) === 'app').map((d) => `${f} -> ${d}`)));
    expect(bad).toEqual([]);
  });

  it('has no import circles', () => {
    // Tarjan's strongly connected components over the file graph.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const circles: string[][] = [];
    let next = 0;
    const visit = (v: string): void => {
      index.set(v, next);
      low.set(v, next++);
      stack.push(v);
      onStack.add(v);
      for (const w of graph.get(v) ?? []) {
        if (!graph.has(w)) continue;
        if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
        else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) === index.get(v)) {
        const scc: string[] = [];
        let w: string;
        do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== v);
        if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(scc.sort());
      }
    };
    for (const f of graph.keys()) if (!index.has(f)) visit(f);
    expect(circles).toEqual([]);
  });

  it('keeps every source file under 400 lines', () => {
    const long = files.filter((f) => readFileSync(join(ROOT, f), 'utf8').split('\n').length > 400).map((f) => relative(ROOT, join(ROOT, f)));
    expect(long).toEqual([]);
  });

  it('resolves every relative import to a file that exists', () => {
    const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => { try { return !statSync(join(ROOT, d)).isFile(); } catch { return true; } }).map((d) => `${f} -> ${d}`));
    expect(missing).toEqual([]);
  });
});
