import { defineConfig } from 'vitest/config';

// One file at a time: the integration tests run real FFmpeg encoders and Chromium, and two
// cores shared by several of those would make timing-based assertions flaky.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
