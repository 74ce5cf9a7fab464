// niceHelperThreads on a real process: read each thread's nice value back from /proc.
import { spawnSync } from 'node:child_process';
import { getPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { niceHelperThreads } from '../../util/threads.js';

const MODULE = fileURLToPath(new URL('../../util/threads.ts', import.meta.url));

/** In a fresh Node process: renice, then report [tid, nice] of every thread and the pid. */
function childThreads(nice: number, keepOne = false): { pid: number; changed: number; kept: number; threads: Array<[number, number]> } {
  const script = `
    import { readdirSync, readFileSync } from 'node:fs';
    const { niceHelperThreads, helperThreadIds } = await import(${JSON.stringify(MODULE)});
    const kept = ${keepOne} ? helperThreadIds()[0] : 0;
    const changed = niceHelperThreads(${nice}, kept ? [kept] : []);
    const threads = readdirSync('/proc/self/task').map((t) => {
      const stat = readFileSync('/proc/self/task/' + t + '/stat', 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [Number(t), Number(fields[16])]; // field 19 of stat: nice
    });
    console.log(JSON.stringify({ pid: process.pid, changed, kept, threads }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('helper threads at low priority', () => {
  it('sets every thread but the main one to the nice value, and leaves the event loop as it was', () => {
    const { pid, changed, threads } = childThreads(19);
    const helpers = threads.filter(([tid]) => tid !== pid);
    expect(helpers.length).toBeGreaterThan(2); // V8's platform workers at least
    expect(changed).toBe(helpers.length);
    expect(helpers.every(([, n]) => n === 19)).toBe(true);
    // The child inherits this runner's nice (0 in CI, more under `nice npm test`).
    expect(threads.find(([tid]) => tid === pid)?.[1]).toBe(getPriority());
  });

  it('leaves the threads it is told to alone (the operations thread keeps ops.nice)', () => {
    const { pid, changed, kept, threads } = childThreads(19, true);
    const helpers = threads.filter(([tid]) => tid !== pid);
    expect(kept).toBeGreaterThan(0);
    expect(changed).toBe(helpers.length - 1);
    expect(helpers.filter(([, n]) => n === 19).map(([tid]) => tid)).not.toContain(kept);
  });

  it('rejects a nice value outside 0–19', () => {
    for (const bad of [-1, 20, 1.5, NaN]) expect(() => niceHelperThreads(bad)).toThrow(/nice must be an integer from 0 to 19/);
  });
});
