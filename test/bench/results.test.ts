import { describe, expect, it } from 'vitest';
import { mergeSubsections } from '../../bench/lib/results.js';

const SECTION = [
  'Machine: an old preamble.',
  '### The bottleneck',
  'run on Monday',
  '### Slow viewers',
  'run on Monday, and a note kept by hand',
  '#### a detail',
  '### What acks cost',
  'run on Sunday',
].join('\n\n');

describe('mergeSubsections', () => {
  it('puts a fresh run above the earlier runs under its heading and leaves every other part as it was', () => {
    const out = mergeSubsections(SECTION, ['### Slow viewers\n\nrun on Tuesday'], 'New preamble.');
    expect(out).toBe([
      'New preamble.',
      '### The bottleneck\n\nrun on Monday',
      '### Slow viewers\n\nrun on Tuesday',
      '### Slow viewers\n\nrun on Monday, and a note kept by hand\n\n#### a detail',
      '### What acks cost\n\nrun on Sunday',
    ].join('\n\n'));
  });

  it('appends a part the section has never had, and starts a section that does not exist', () => {
    expect(mergeSubsections(SECTION, ['### A freeze\n\nnew'], 'P.').endsWith('### What acks cost\n\nrun on Sunday\n\n### A freeze\n\nnew')).toBe(true);
    expect(mergeSubsections('', ['### A freeze\n\nnew', '### The bottleneck\n\nnew too'], 'P.')).toBe('P.\n\n### A freeze\n\nnew\n\n### The bottleneck\n\nnew too');
  });

  it('keeps the section whole when nothing ran', () => {
    expect(mergeSubsections(SECTION, [], 'Machine: an old preamble.')).toBe(SECTION);
  });
});
