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
