import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { onStderrLines } from '../../util/stderr-lines.js';

function feed(chunks: string[], max: number): string[] {
  const s = new PassThrough();
  const out: string[] = [];
  onStderrLines(s, max, (l) => out.push(l));
  for (const c of chunks) s.write(c);
  return out;
}

describe('onStderrLines', () => {
  const cases: Array<{ name: string; chunks: string[]; max: number; lines: string[] }> = [
    { name: 'splits lines and skips blank ones', chunks: ['a\n\n  \nb\n'], max: 100, lines: ['a', 'b'] },
    { name: 'joins a line written in pieces', chunks: ['hel', 'lo\nwor', 'ld\n'], max: 100, lines: ['hello', 'world'] },
    { name: 'holds an unfinished line back', chunks: ['done\npartial'], max: 100, lines: ['done'] },
    { name: 'cuts a long line to max characters', chunks: [`${'x'.repeat(50)}\n`], max: 10, lines: ['x'.repeat(10)] },
    { name: 'keeps only the last max characters of a line written without newlines', chunks: ['a'.repeat(30), 'b'.repeat(5), '\n'], max: 8, lines: ['aaabbbbb'] },
  ];
  for (const c of cases) it(c.name, () => expect(feed(c.chunks, c.max)).toEqual(c.lines));
});
