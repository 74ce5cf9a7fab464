#!/usr/bin/env node
// Installs what a fresh Debian/Ubuntu machine lacks before `npm start` / `npm test`:
// npm dependencies always; ffmpeg (and, for tests, the browsers and what they need) via apt
// when root, otherwise an exact message saying what to install. Uses only Node built-ins: it
// runs before npm install.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { buildSrtGateway, gatewayStale, GATEWAY_PACKAGES } from './build-srt-gateway.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const mode = process.argv[2] === 'test' ? 'test' : 'run';

const major = Number(process.versions.node.split('.')[0]);
if (major < 20) fail(`Nowcast needs Node.js >= 20; this is ${process.version}.`);

// Where Debian and Ubuntu put GStreamer's libav plugin, per architecture.
const GST_LIBAV = ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'arm-linux-gnueabihf', 'i386-linux-gnu']
  .map((triplet) => `/usr/lib/${triplet}/gstreamer-1.0/libgstlibav.so`);

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const need = [];
if (!has('ffmpeg') || !has('ffprobe')) need.push('ffmpeg');
// The SRT gateway (ingest/srt/gateway.c) is compiled here against the OS's libsrt.
const srtHeaders = spawnSync('pkg-config', ['--exists', 'srt'], { stdio: 'ignore' }).status === 0;
if (gatewayStale() && (!has('gcc') || !srtHeaders)) need.push(...GATEWAY_PACKAGES);
// The browser matrix (test/browser/matrix.test.ts): each engine is checked by the file that
// matters, not by a command name on PATH.
if (mode === 'test') {
  const engines = [
    ['chromium', ['/usr/bin/chromium']],
    ['firefox-esr', ['/usr/bin/firefox-esr']],
    // WebKitGTK's MiniBrowser comes with its WebDriver.
    ['webkit2gtk-driver', ['/usr/bin/WebKitWebDriver']],
    // WebKitGTK plays H.264 and AAC in MSE only through GStreamer's libav plugin.
    ['gstreamer1.0-libav', GST_LIBAV],
    // MiniBrowser needs a display.
    ['xvfb', ['/usr/bin/Xvfb']],
  ];
  for (const [pkg, files] of engines) if (!files.some((f) => existsSync(f))) need.push(pkg);
}
if (mode === 'test' && !has('openssl')) need.push('openssl');
// The cluster tests run a real NATS server (Debian/Ubuntu package nats-server).
if (mode === 'test' && !has('nats-server')) need.push('nats-server');

if (need.length) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !has('apt-get')) {
    fail(`Nowcast needs ${need.join(', ')}. Install with:\n  sudo apt-get update && sudo apt-get install -y ${need.join(' ')}`);
  }
  console.error(`[nowcast] installing ${need.join(', ')} with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], env);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...need], env);
}

const ffmpegVersion = execFileSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
const m = /version (?:n)?(\d+)\.(\d+)/.exec(ffmpegVersion);
if (m && (Number(m[1]) < 5 || (Number(m[1]) === 5 && Number(m[2]) < 1))) {
  fail(`Nowcast needs FFmpeg >= 5.1; found "${ffmpegVersion}".`);
}

try {
  buildSrtGateway();
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}

// npm dependencies: install when missing or older than the lock file.
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
const stale = existsSync(marker) && existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000;
if (!existsSync(marker) || stale || !existsSync(join(root, 'node_modules', 'uWebSockets.js')) || !existsSync(join(root, 'node_modules', 'nats'))) {
  console.error('[nowcast] installing npm dependencies…');
  run('npm', [existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund'], process.env);
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env, cwd: root });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (exit ${r.status}).`);
}

function fail(message) {
  console.error(`[nowcast] ${message}`);
  process.exit(1);
}
