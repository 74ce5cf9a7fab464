// The real app as its own process (`node --import tsx app/main.ts`), for faults that only a
// process shows: a restart, SIGTERM, exit codes.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from './ports.js';
import { NODE_FLAGS } from '../../app/node-flags.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface AppProcess {
  proc: ChildProcess;
  http: string;
  /** The operations listener (a free port unless opsPort is given). */
  ops: string;
  output: () => string;
  exited: Promise<number | null>;
}

export async function startApp(o: { httpPort: number; rtmpPort: number; opsPort?: number; env?: Record<string, string> }): Promise<AppProcess> {
  let out = '';
  const opsPort = o.opsPort ?? await freeTcpPort();
  const proc = spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', 'app/main.ts', '--host', '127.0.0.1', '--http-port', String(o.httpPort), '--rtmp-port', String(o.rtmpPort),
    '--ops-port', String(opsPort)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NOWCAST_SRT_LISTENERS: '[]', ...o.env },
  });
  proc.stdout!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-20_000); });
  proc.stderr!.on('data', (d: Buffer) => { out = (out + d.toString()).slice(-20_000); });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const http = `http://127.0.0.1:${o.httpPort}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${http}/livez`)).ok) break; } catch { /* not up yet */ }
    if (i > 150 || proc.exitCode !== null) throw new Error(`app did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, http, ops: `http://127.0.0.1:${opsPort}`, output: () => out, exited };
}
