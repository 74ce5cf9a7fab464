// Restart delay for a crashed child: exponential, capped, with jitter so many streams
// restarting together (e.g. after an FFmpeg upgrade) don't do it in lockstep.
export function restartDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(exp / 2 + (random() * exp) / 2);
}
