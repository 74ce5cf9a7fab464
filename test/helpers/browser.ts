// Headless system Chromium through playwright-core (no browser download).
import { expect } from 'vitest';
import type { GlassState } from '../../bench/lib/pixel-clock.js';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.NOWCAST_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-quic', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}

/** A page's playback at one moment, as the watch tests read it. */
export interface PlaybackReport {
  currentTime: number;
  /** getVideoPlaybackQuality().totalVideoFrames */
  decoded: number;
  glass: GlassState;
}

/**
 * Asserts that a 30 fps stream played between two reports `seconds` apart (frames decoded, time
 * advanced), and returns the pixel glass-to-glass (ms) of the frames shown over those seconds, sorted.
 */
export function expectPlayedBetween(a: PlaybackReport, b: PlaybackReport, seconds: number): number[] {
  expect(b.decoded).toBeGreaterThan(a.decoded + 22 * seconds); // ~30 fps, with room for a loaded machine
  expect(b.currentTime).toBeGreaterThan(a.currentTime + 0.75 * seconds);
  const recent = b.glass.samples.filter((x) => x.shownAt > Date.now() - seconds * 1000).map((x) => x.latencyMs).sort((x, y) => x - y);
  expect(recent.length).toBeGreaterThan(15 * seconds);
  return recent;
}
