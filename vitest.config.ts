import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Two projects, by what a test needs.
//
// unit: test/<source folder>/, mirroring the source. In process, no FFmpeg, browser, NATS or
// app server (loopback sockets on port 0 are fine), so files run in parallel; each file has its
// own worker process, so module state and process.env are its own.
//
// slow: test/integration, test/browser, test/fanout. One file at a time, as before the split:
// they run real FFmpeg encoders, Chromium and nats-server, and two cores shared by several of
// those would make timing-based assertions flaky. They run after the unit files (groupOrder).
export const UNIT = ['protocol', 'media', 'util', 'ingest', 'relay', 'admission', 'ops', 'cluster', 'player', 'app'];
export const SLOW = ['integration', 'browser', 'fanout'];

const files = (folders: string[]): string[] => folders.map((f) => `test/${f}/**/*.test.ts`);

// A test file in a folder neither project names would silently never run.
const stray = readdirSync(new URL('./test', import.meta.url), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.ts') && ![...UNIT, ...SLOW].includes(f.split(/[\\/]/)[0]!));
if (stray.length) throw new Error(`vitest.config.ts: no project runs ${stray.map((f) => `test/${f}`).join(', ')}; add its folder to UNIT or SLOW`);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: files(UNIT),
          pool: 'threads',
          fileParallelism: true,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'slow',
          include: files(SLOW),
          pool: 'forks',
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
