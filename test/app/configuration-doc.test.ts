// docs/configuration.md is generated from the Config comments (scripts/config-doc.ts); this fails
// when the file is stale. It also checks that every relative link in the README and docs/ resolves,
// to a file that exists and, with a #fragment, to a heading in it.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDoc, OUT } from '../../scripts/config-doc.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('docs/configuration.md', () => {
  it('matches what the Config comments generate', () => {
    const onDisk = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
    expect(onDisk === configDoc(), 'docs/configuration.md is out of date: run `npm run docs:config`').toBe(true);
  }, 60_000);
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    const base = m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Relative links of a markdown file, outside code. */
function links(markdown: string): string[] {
  const text = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/i.test(l));
}

const files = ['README.md', 'bench/RESULTS.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('relative links in the README and docs/', () => {
  for (const file of files) {
    it(`resolve in ${file}`, () => {
      const broken: string[] = [];
      for (const link of links(readFileSync(join(ROOT, file), 'utf8'))) {
        const [path, fragment] = link.split('#') as [string, string | undefined];
        const target = path ? join(ROOT, dirname(file), decodeURIComponent(path)) : join(ROOT, file);
        if (!existsSync(target)) { broken.push(`${link} (no ${relative(ROOT, target)})`); continue; }
        if (fragment && target.endsWith('.md') && !anchors(readFileSync(target, 'utf8')).has(fragment)) broken.push(`${link} (no heading #${fragment})`);
      }
      expect(broken, `broken links in ${file}`).toEqual([]);
    });
  }
});
