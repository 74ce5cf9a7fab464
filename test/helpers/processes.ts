// This user's processes as /proc shows them, for tests and benchmarks that find the helpers a
// server spawned (the SRT gateway by its argv, a remux FFmpeg by NOWCAST_STREAM in its environment).
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcessView {
  pid: number;
  argv: string[];
  env: string[];
}

/** Every process whose argv (and environment, when readable) can be read now; those that vanish are skipped. */
export function processes(): ProcessView[] {
  const out: ProcessView[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0');
      let env: string[] = [];
      try { env = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0'); } catch { /* another user's */ }
      out.push({ pid: Number(name), argv, env });
    } catch {
      // gone
    }
  }
  return out;
}

/** The SRT gateway listening on `port`: its argv is [binary, host, port, latency, …]. */
export const srtGateway = (port: number): ProcessView | undefined =>
  processes().find((p) => p.argv[0]?.endsWith('srt-gateway') && p.argv[2] === String(port));

/** Processes remuxing `stream` (ingest/remux.ts puts NOWCAST_STREAM in FFmpeg's environment). */
export const remuxesOf = (stream: string): number[] =>
  processes().filter((p) => p.env.includes(`NOWCAST_STREAM=${stream}`)).map((p) => p.pid);
