// WebKitGTK's MiniBrowser driven over plain W3C WebDriver (HTTP, fetch): Xvfb for a display,
// WebKitWebDriver on a free port, one session. Everything started here is one process group
// per binary, killed on close and when the test process exits (reaper.ts).
import type { ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { freeTcpPort } from './ports.js';
import { killTree, spawnGroup } from './reaper.js';

export const WEBKIT_DRIVER = process.env.NOWCAST_WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env.NOWCAST_MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
export const XVFB = '/usr/bin/Xvfb';

/** Each WebDriver call is bounded: a wedged page or driver must fail the test, not hang it. */
const CALL_MS = 15_000;

interface WdValue<T> { value: T }
interface WdError { error: string; message: string }

async function call<T>(url: string, method: 'GET' | 'POST' | 'DELETE', body?: object, ms = CALL_MS): Promise<T> {
  const r = await fetch(url, {
    method,
    headers: body ? { 'content-type': 'application/json' } : undefined,
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(ms),
  });
  const json = await r.json() as WdValue<T | WdError>;
  if (!r.ok) {
    const e = json.value as WdError;
    throw new Error(`WebDriver ${method} ${new URL(url).pathname}: ${e.error}: ${e.message}`);
  }
  return json.value as T;
}

/** Starts Xvfb on a display number it picks itself (-displayfd); resolves to ":N". */
async function startXvfb(): Promise<{ proc: ChildProcess; display: string }> {
  const proc = spawnGroup(XVFB, ['-displayfd', '3', '-screen', '0', '1280x720x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
  const fd = proc.stdio[3] as Readable;
  try {
    const display = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`Xvfb gave no display in 10 s: ${err}`)), 10_000);
      fd.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) { clearTimeout(timer); resolve(`:${out.trim()}`); }
      });
      proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`Xvfb exited (${code}): ${err}`)); });
    });
    return { proc, display };
  } catch (e) {
    await killTree(proc);
    throw e;
  }
}

export interface WebKitSession {
  /** http://127.0.0.1:PORT/session/ID */
  readonly base: string;
  navigate(url: string): Promise<void>;
  /** Evaluates JavaScript in the page (a promise is awaited) and returns its completion value as JSON. */
  evaluate<T>(js: string): Promise<T>;
  /** A PNG of the viewport. */
  screenshot(): Promise<Buffer>;
  /** Raw W3C command on this session, e.g. ('POST', '/window/minimize'). */
  command<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: object): Promise<T>;
  close(): Promise<void>;
}

export async function openWebKit(args: string[] = []): Promise<WebKitSession> {
  const procs: ChildProcess[] = [];
  const stop = async (): Promise<void> => { for (const p of [...procs].reverse()) await killTree(p); };
  try {
    const x = await startXvfb();
    procs.push(x.proc);
    const port = await freeTcpPort();
    // NOWCAST_WEBKIT_LOG=FILE: the driver's and MiniBrowser's output, the page's console with it.
    const log = process.env.NOWCAST_WEBKIT_LOG ? openSync(process.env.NOWCAST_WEBKIT_LOG, 'a') : 'ignore';
    const driver = spawnGroup(WEBKIT_DRIVER, [`--port=${port}`], { stdio: ['ignore', log, log], env: { ...process.env, DISPLAY: x.display } });
    procs.push(driver);
    const root = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try { if ((await call<{ ready: boolean }>(`${root}/status`, 'GET', undefined, 1000)).ready) break; } catch { /* not up yet */ }
      if (i >= 100 || driver.exitCode !== null) throw new Error('WebKitWebDriver did not start in 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    // WebKitWebDriver does not pass --automation itself: without it the session never starts.
    const created = await call<{ sessionId: string }>(`${root}/session`, 'POST', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation', '--autoplay-policy=allow',
        ...(process.env.NOWCAST_WEBKIT_LOG ? ['--enable-write-console-messages-to-stdout=true'] : []), ...args] } } },
    }, 60_000);
    const base = `${root}/session/${created.sessionId}`;
    await call(`${base}/timeouts`, 'POST', { script: CALL_MS - 1000, pageLoad: CALL_MS - 1000 });
    let closed: Promise<void> | undefined;
    return {
      base,
      navigate: async (url) => { await call(`${base}/url`, 'POST', { url }); },
      evaluate: async <T>(js: string): Promise<T> => {
        // Indirect eval: statements too, their completion value returned, as CDP and BiDi do;
        // the result settles into { ok } or { err }, so a rejection reaches the test as text.
        const script = `const [src, done] = arguments;
Promise.resolve().then(() => (0, eval)(src)).then((ok) => done({ ok: ok === undefined ? null : ok }), (e) => done({ err: String(e && e.stack || e) }));`;
        const r = await call<{ ok?: T; err?: string }>(`${base}/execute/async`, 'POST', { script, args: [js] });
        if (r.err !== undefined) throw new Error(`in WebKit: ${r.err}`);
        return r.ok as T;
      },
      screenshot: async () => Buffer.from(await call<string>(`${base}/screenshot`, 'GET'), 'base64'),
      command: (method, path, body) => call(`${base}${path}`, method, body),
      close: () => (closed ??= (async () => {
        try { await call(`${base}`, 'DELETE', undefined, 5000); } catch { /* the processes go regardless */ }
        await stop();
      })()),
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
