// Writes one benchmark's section of bench/RESULTS.md, leaving the other sections alone.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { cpus, release } from 'node:os';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

export function machine(): string {
  let commit = 'uncommitted';
  try { commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}, Node ${process.version}, commit ${commit}`;
}

/** Replaces the section headed `## ${title}` (up to the next `## `) or appends it. */
export function writeSection(title: string, body: string): void {
  const head = `## ${title}`;
  const text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Benchmark results\n\nEach section is written by its benchmark; re-run the command to refresh it.\n';
  const start = text.indexOf(head + '\n');
  const section = `${head}\n\n${body.trim()}\n\n`;
  if (start < 0) { writeFileSync(FILE, text.trimEnd() + '\n\n' + section); return; }
  const next = text.indexOf('\n## ', start + head.length);
  writeFileSync(FILE, text.slice(0, start) + section + (next < 0 ? '' : text.slice(next + 1)));
}

/** The body of the section headed `## ${title}` (without its heading), or '' when there is none. */
export function readSection(title: string): string {
  const head = `## ${title}\n`;
  const text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '';
  const start = text.indexOf(head);
  if (start < 0) return '';
  const next = text.indexOf('\n## ', start + head.length);
  return text.slice(start + head.length, next < 0 ? undefined : next).trim();
}

/**
 * A section's body with `fresh` subsections (each starting `### heading`) put in: each before the
 * first subsection with its heading, whose earlier runs stay below it with their own dates, or at
 * the end. What precedes the first subsection becomes `preamble`; the rest is unchanged, so a run
 * of some parts leaves the others' figures, and the notes kept by hand, where they were.
 */
export function mergeSubsections(body: string, fresh: string[], preamble: string): string {
  const [, ...subs] = `\n${body}`.split('\n### ').map((s, i) => (i === 0 ? s : `### ${s}`.trim()));
  const heading = (s: string): string => s.split('\n', 1)[0]!.trim();
  for (const f of fresh.map((s) => s.trim())) {
    const at = subs.findIndex((s) => heading(s) === heading(f));
    if (at < 0) subs.push(f);
    else subs.splice(at, 0, f);
  }
  return [preamble.trim(), ...subs].join('\n\n');
}
