#!/usr/bin/env node
// Builds the SRT gateway (ingest/srt/gateway.c) into dist/srt-gateway with gcc against the OS's
// libsrt (pkg-config srt: Debian's libsrt-gnutls-dev, the flavour FFmpeg already links).
// Rebuilt when missing or older than its source. scripts/ensure.mjs installs the compiler and
// headers; run alone, this prints what is missing. Node built-ins only.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const GATEWAY_SOURCE = join(root, 'ingest', 'srt', 'gateway.c');
export const GATEWAY_BINARY = join(root, 'dist', 'srt-gateway');
/** Debian/Ubuntu packages the build needs. */
export const GATEWAY_PACKAGES = ['gcc', 'libc6-dev', 'pkg-config', 'libsrt-gnutls-dev'];

export function gatewayStale() {
  return !existsSync(GATEWAY_BINARY) || statSync(GATEWAY_BINARY).mtimeMs < statSync(GATEWAY_SOURCE).mtimeMs;
}

/** Compiles the gateway if stale; throws with the exact missing piece otherwise. */
export function buildSrtGateway() {
  if (!gatewayStale()) return GATEWAY_BINARY;
  let flags;
  try {
    flags = execFileSync('pkg-config', ['--cflags', '--libs', 'srt'], { encoding: 'utf8' }).trim().split(/\s+/);
  } catch {
    throw new Error(`building the SRT gateway needs libsrt's headers: sudo apt-get install -y ${GATEWAY_PACKAGES.join(' ')}`);
  }
  mkdirSync(join(root, 'dist'), { recursive: true });
  const tmp = `${GATEWAY_BINARY}.${process.pid}`;
  execFileSync('gcc', ['-O2', '-Wall', '-o', tmp, GATEWAY_SOURCE, ...flags, '-lpthread'], { stdio: ['ignore', 'inherit', 'inherit'] });
  execFileSync('mv', ['-f', tmp, GATEWAY_BINARY]);
  return GATEWAY_BINARY;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(buildSrtGateway());
  } catch (err) {
    console.error(`[nowcast] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
