#!/usr/bin/env node
// Installs what a fresh Debian/Ubuntu machine lacks before `npm start` / `npm test`:
// npm dependencies always; ffmpeg (and chromium for tests) via apt when root, otherwise an
// exact message saying what to install. Uses only Node built-ins: it runs before npm install.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const mode = process.argv[2] === 'test' ? 'test' : 'run';

const major = Number(process.versions.node.split('.')[0]);
if (major < 20) fail(`Nowcast needs Node.js >= 20; this is ${process.version}.`);

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const need = [];
if (!has('ffmpeg') || !has('ffprobe')) need.push('ffmpeg');
if (mode === 'test' && !existsSync('/usr/bin/chromium')) need.push('chromium');
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
