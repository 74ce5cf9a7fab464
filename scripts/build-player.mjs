#!/usr/bin/env node
// Builds the browser player:
//   player/index.ts -> dist/player/nowcast-player.js  (the library, ESM)
//   player/watch.ts -> dist/player/watch.js           (the /watch/NAME page script)
//   player/worker.ts -> a string inside both (__NOWCAST_WORKER__, the MSE worker's script),
//                       and dist/player/mse-worker.js, which the /watch page starts before watch.js loads
//   player/hls-bundle.ts -> dist/player/hls.js         (hls.js for the LL-HLS path, loaded on demand)
//   declarations    -> dist/player/types/player/index.d.ts
// Exits non-zero on any error.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'player');
const started = performance.now();

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // Class private fields (#) natively: lowering them costs ~4 KB of WeakMap helpers. Safari 15+
  // (iOS before 17.1 gets LL-HLS, which needs no MSE).
  target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

function declarations() {
  // Incremental tsc trusts its build info, not the files: if output went missing, start over.
  if (!existsSync(join(out, 'types', 'player', 'index.d.ts'))) rmSync(join(out, 'types'), { recursive: true, force: true });
  // The player imports only protocol/: declarations of any other folder are left from older builds.
  if (existsSync(join(out, 'types'))) {
    for (const d of readdirSync(join(out, 'types'))) if (!['player', 'protocol'].includes(d) && !d.endsWith('.tsbuildinfo')) rmSync(join(out, 'types', d), { recursive: true, force: true });
  }
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', join(root, 'player', 'tsconfig.build.json')], {
      cwd: root,
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`tsc (declarations) failed: ${signal ?? `exit ${code}`}`)),
    );
  });
}

/**
 * X.js.br and X.js.gz next to every script, which the relay serves to browsers that accept them
 * (ops/http.ts): watch.js is ~78 KB, ~21 KB as brotli, and on a phone's link the bundle's
 * download is part of the time to the first frame. Maps stay plain (only devtools fetch them).
 */
async function precompress() {
  const brotli = promisify(zlib.brotliCompress);
  const gzip = promisify(zlib.gzip);
  await Promise.all(readdirSync(out).filter((f) => f.endsWith('.js')).map(async (f) => {
    const body = readFileSync(join(out, f));
    const [br, gz] = await Promise.all([
      brotli(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length } }),
      gzip(body, { level: 9 }),
    ]);
    writeFileSync(join(out, `${f}.br`), br);
    writeFileSync(join(out, `${f}.gz`), gz);
  }));
}

try {
  // esbuild only strips types; the declaration pass is also the library's type check.
  // Outputs are overwritten in place (no clean): tsc's incremental build info sits in types/.
  // The worker is inlined (started from a blob: URL), so a page needs the one file only.
  const worker = await esbuild.build({ ...common, format: 'iife', sourcemap: false, write: false, entryPoints: [join(root, 'player/worker.ts')] });
  const define = { __NOWCAST_WORKER__: JSON.stringify(worker.outputFiles[0].text) };
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'mse-worker.js'), worker.outputFiles[0].text);
  await Promise.all([
    esbuild.build({ ...common, define, entryPoints: [join(root, 'player/index.ts')], outfile: join(out, 'nowcast-player.js') }),
    esbuild.build({ ...common, define, entryPoints: [join(root, 'player/watch.ts')], outfile: join(out, 'watch.js') }),
    // A bundle of its own, so the WebSocket path never downloads hls.js; its light build (no
    // subtitles, alternate audio or DRM: a Nowcast stream has none) is ~40 % smaller.
    esbuild.build({ ...common, alias: { 'hls.js': 'hls.js/light' }, entryPoints: [join(root, 'player/hls-bundle.ts')], outfile: join(out, 'hls.js') }),
    declarations(),
  ]);
  await precompress();
  console.log(`build-player: dist/player built in ${Math.round(performance.now() - started)} ms`);
} catch (err) {
  console.error(`build-player: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
