// How run-one.ts drives its children: they print JSON events on stdout, one per line, and
// obey "stop" on stdin. A hard deadline bounds every child even if its parent dies.
import { createInterface } from 'node:readline';

export function emitEvent(event: string, data: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ event, ...data }) + '\n');
}

/** Calls `onStop` once: on "stop" from stdin, stdin closing, SIGTERM, or after `maxS` seconds. */
export function onStop(maxS: number, onStopFn: (why: string) => void): void {
  let done = false;
  const fire = (why: string): void => {
    if (done) return;
    done = true;
    onStopFn(why);
  };
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (l) => { if (l.trim() === 'stop') fire('stop'); });
  rl.on('close', () => fire('stdin closed'));
  process.on('SIGTERM', () => fire('SIGTERM'));
  setTimeout(() => fire('deadline'), maxS * 1000).unref();
}

/** Parses --key value pairs (and bare --flag as "1"). */
export function parseArgs(argv: string[] = process.argv.slice(2)): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[a.slice(2)] = '1';
    else { out[a.slice(2)] = next; i++; }
  }
  return out;
}

export function num(args: Record<string, string>, key: string, dflt?: number): number {
  const v = args[key];
  if (v === undefined) {
    if (dflt === undefined) throw new Error(`missing --${key}`);
    return dflt;
  }
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${key} is not a number: ${v}`);
  return n;
}

export function str(args: Record<string, string>, key: string, dflt?: string): string {
  const v = args[key] ?? dflt;
  if (v === undefined) throw new Error(`missing --${key}`);
  return v;
}
