// The media-error budget on a simulated clock.
import { describe, expect, it } from 'vitest';
import { MAX_RECOVERIES_PER_MIN, RecoveryBudget, SAME_FAILURE_MS } from '../../player/recovery.js';

describe('RecoveryBudget', () => {
  it(`recovers ${MAX_RECOVERIES_PER_MIN} times in a minute and gives up on the next`, () => {
    const b = new RecoveryBudget();
    const verdicts = [0, 10_000, 20_000, 30_000].map((t) => b.note(t));
    expect(verdicts).toEqual(['recover', 'recover', 'recover', 'give-up']);
  });

  it('counts a second report of the same failure (within a second) once', () => {
    const b = new RecoveryBudget();
    expect(b.note(0)).toBe('recover');
    expect(b.note(SAME_FAILURE_MS - 1)).toBe('duplicate');
    expect(b.note(SAME_FAILURE_MS)).toBe('recover');
  });

  it('forgets failures older than a minute', () => {
    const b = new RecoveryBudget();
    for (let i = 0; i < 30; i++) expect(b.note(i * 25_000)).toBe('recover');
  });
});
