// The media-error budget on a simulated clock.
import { describe, expect, it } from 'vitest';
import { MAX_RECOVERIES_PER_MIN, RecoveryBudget } from '../../player/recovery.js';

/** A failure at `t`, then media reaching the new MediaSource: one recovery cycle. */
function cycle(b: RecoveryBudget, t: number): string {
  const v = b.note(t);
  b.mediaArrived();
  return v;
}

describe('RecoveryBudget', () => {
  it(`recovers ${MAX_RECOVERIES_PER_MIN} times in a minute and gives up on the next`, () => {
    const b = new RecoveryBudget();
    const verdicts = [0, 10_000, 20_000, 30_000].map((t) => cycle(b, t));
    expect(verdicts).toEqual(['recover', 'recover', 'recover', 'give-up']);
  });

  it('counts a second report of the same failure (before the new MediaSource has media) once, however late it comes', () => {
    const b = new RecoveryBudget();
    expect(b.note(0)).toBe('recover');
    expect(b.note(1)).toBe('duplicate');
    expect(b.note(5_000)).toBe('duplicate');
  });

  it('counts a failure soon after a recovery whose new MediaSource already took media (WebKitGTK: "Failed to push buffer" again)', () => {
    const b = new RecoveryBudget();
    expect(b.note(0)).toBe('recover');
    b.mediaArrived();
    expect(b.note(500)).toBe('recover');
  });

  it('forgets failures older than a minute', () => {
    const b = new RecoveryBudget();
    for (let i = 0; i < 30; i++) expect(cycle(b, i * 25_000)).toBe('recover');
  });
});
