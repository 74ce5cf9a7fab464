import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Two projects, by what a test needs.
//
// unit: test/<source folder>/, mirroring the source. In process: no FFmpeg (not even to make
// fixtures), no browser, NATS, openssl or app (a child `node` that checks a process-level
// property is fine, and so are loopback sockets on port 0), so files run in parallel and
// `npm run test:unit` needs nothing but node_modules.
//
// slow: test/integration, test/browser, test/fanout. One file at a time, as before the split:
// they run real FFmpeg encoders, Chromium and nats-server, and two cores shared by several of
// those would make timing-based assertions flaky. They run after the unit files (groupOrder).
export const UNIT = ['protocol', 'media', 'util', 'ingest', 'relay', 'hls', 'admission', 'ops', 'cluster', 'player', 'app', 'abr', 'bench'];
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
          // Worker threads start faster than forks; each file still gets a fresh worker (isolate,
          // the default), so stubs, timers and module state never leak between files, and
          // process.env is a copy per worker. At least two at once: vitest's default on two
          // cores would be one.
          pool: 'threads',
          fileParallelism: true,
          maxWorkers: Math.max(2, availableParallelism()),
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
