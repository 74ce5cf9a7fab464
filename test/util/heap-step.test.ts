// HeapStep on a simulated clock, with a fake heap and collector.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HeapStep } from '../../util/heap-step.js';

describe('HeapStep', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('collects each time the heap has grown by the step since the last collection, and not before', () => {
    let used = 10_000;
    const gc = vi.fn(() => { used = 10_500; }); // what was live stays
    const h = new HeapStep(1000, 100, gc, () => used);
    used = 10_900;
    vi.advanceTimersByTime(500);
    expect(gc).not.toHaveBeenCalled();
    used = 11_000;
    vi.advanceTimersByTime(100);
    expect(gc).toHaveBeenCalledTimes(1);
    // The next step counts from what the collection left (10,500), not from where it started.
    used = 11_400;
    vi.advanceTimersByTime(300);
    expect(gc).toHaveBeenCalledTimes(1);
    used = 11_500;
    vi.advanceTimersByTime(100);
    expect(gc).toHaveBeenCalledTimes(2);
    expect(h.collections).toBe(2);
    h.close();
    h.close();
    used = 1e9;
    vi.advanceTimersByTime(1000);
    expect(gc).toHaveBeenCalledTimes(2);
  });

  it('does nothing without a collector (node without --expose-gc)', () => {
    const h = new HeapStep(1, 10, undefined, () => 1e9);
    expect(h.active).toBe(false);
    vi.advanceTimersByTime(1000);
    h.close();
  });

  it('is active in a process started with --expose-gc, as the server is', async () => {
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const { NODE_FLAGS } = await import('../../app/node-flags.js');
    const mod = fileURLToPath(new URL('../../util/heap-step.ts', import.meta.url));
    const r = spawnSync(process.execPath, [...NODE_FLAGS, '--import', 'tsx', '-e',
      `import(${JSON.stringify(mod)}).then(({ HeapStep }) => { const h = new HeapStep(1, 5); setTimeout(() => { console.log(h.active, h.collections > 0); h.close(); }, 100); })`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('true true');
  });
});
