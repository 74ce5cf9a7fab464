// Health and graceful shutdown: while draining /readyz turns 503 and new viewers are refused,
// /livez stays 200, connected viewers keep their stream, and the server stops after the drain.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { freeTcpPort } from '../../helpers/ports.js';
import { Viewer } from '../../helpers/viewer.js';

const BIN = fileURLToPath(new URL('../../../bin/nowcast.mjs', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const status = async (url: string): Promise<number> => (await fetch(url)).status;

/** Resolves with the HTTP status a WebSocket upgrade was refused with, or 101 if it opened. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once('open', () => { ws.terminate(); resolve(101); });
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate(); });
    ws.once('error', () => resolve(0));
  });
}

let n: Running | undefined;
let child: ChildProcess | undefined;

afterAll(() => {
  n?.app.close();
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

describe('health and drain', () => {
  it('turns /readyz to 503 while draining, keeps /livez at 200, and stops once the last viewer leaves', async () => {
    n = await startNowcast();
    expect(await status(`${n.http}/readyz`)).toBe(200);
    const v = new Viewer(n.ws('quiet'));
    await v.opened;
    const started = Date.now();
    const drained = n.app.drain(20_000);
    expect(await status(`${n.http}/readyz`)).toBe(503);
    expect(await status(`${n.http}/livez`)).toBe(200);
    // The operations listener's thread is told at once, not at its next readiness poll.
    expect(await status(`${n.ops}/readyz`)).toBe(503);
    expect(await status(`${n.ops}/livez`)).toBe(200);
    expect(await upgradeStatus(n.ws('quiet'))).toBe(503);
    await sleep(300);
    expect(v.closed).toBe(false); // connected viewers stay
    v.close();
    await drained;
    expect(Date.now() - started).toBeLessThan(5_000); // did not wait for the deadline
    await expect(fetch(`${n.http}/livez`)).rejects.toThrow();
  });

  it('drains on SIGTERM through the nowcast command, then exits after the drain deadline', async () => {
    const [http, rtmp] = [await freeTcpPort(), await freeTcpPort()];
    child = spawn(process.execPath, [BIN, '--host', '127.0.0.1', '--http-port', String(http), '--rtmp-port', String(rtmp), '--ops-port', '0',
      '--set', 'srt.listeners=[]', '--drain-ms', '2000', '--log-format', 'json', '--log-level', 'info'],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${http}`;
    const end = Date.now() + 20_000;
    while (!out.includes('Nowcast is up')) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`nowcast did not start:\n${out}`);
      await sleep(100);
    }
    expect(await status(`${base}/readyz`)).toBe(200);
    const v = new Viewer(`ws://127.0.0.1:${http}/live/quiet`);
    await v.opened;

    const killedAt = Date.now();
    child.kill('SIGTERM');
    await sleep(300);
    expect(await status(`${base}/readyz`)).toBe(503);
    expect(await status(`${base}/livez`)).toBe(200);
    expect(v.closed).toBe(false);
    expect(await exited).toBe(0);
    const took = Date.now() - killedAt;
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(6_000);
    await v.until(() => v.closed, 2_000, 'the viewer to be disconnected');
    // It was told why before the socket closed, so a player can go elsewhere at once.
    expect(v.texts('state').at(-1)).toMatchObject({ state: 'offline', code: 'SERVER_SHUTDOWN' });
    // Every line is JSON (not a TTY), and the drain is logged.
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; component?: string });
    expect(lines.some((l) => l.msg === 'draining before stopping')).toBe(true);
    expect(lines.some((l) => l.msg === 'drain finished')).toBe(true);
  });
});
