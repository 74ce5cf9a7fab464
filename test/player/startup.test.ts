import { describe, expect, it } from 'vitest';
import { StartupTimeline } from '../../player/startup.js';

describe('StartupTimeline', () => {
  it('gives each stage in ms after navigation start, NaN until reached', () => {
    const t = new StartupTimeline(1_000_120, 1_000_000);
    expect(t.times(NaN)).toEqual({ player: 120, open: NaN, media: NaN, appended: NaN, frame: NaN });
    t.note({ type: 'open' }, 1_000_150);
    t.note({ type: 'frame', kind: 'init', bytes: 700 }, 1_000_160);
    t.note({ type: 'frame', kind: 'media', bytes: 9000 }, 1_000_170);
    t.note({ type: 'idle' }, 1_000_190);
    expect(t.times(1_000_230)).toEqual({ player: 120, open: 150, media: 170, appended: 190, frame: 230 });
  });

  it('counts a drain of the queue only once media came, not the init segment\'s alone', () => {
    const t = new StartupTimeline(0, 0);
    t.note({ type: 'frame', kind: 'init', bytes: 700 }, 10);
    t.note({ type: 'idle' }, 12);
    expect(t.times(NaN).appended).toBeNaN();
    t.note({ type: 'frame', kind: 'media', bytes: 9000 }, 20);
    t.note({ type: 'idle' }, 25);
    expect(t.times(NaN).appended).toBe(25);
  });

  it('keeps the first connection\'s times through reconnects', () => {
    const t = new StartupTimeline(0, 0);
    t.note({ type: 'open' }, 5);
    t.note({ type: 'frame', kind: 'media', bytes: 1 }, 6);
    t.note({ type: 'idle' }, 7);
    t.note({ type: 'open' }, 500);
    t.note({ type: 'frame', kind: 'media', bytes: 1 }, 510);
    t.note({ type: 'idle' }, 520);
    expect(t.times(9)).toEqual({ player: 0, open: 5, media: 6, appended: 7, frame: 9 });
  });
});
