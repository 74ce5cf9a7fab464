// Makes docs/img/dashboard.png from a real run: starts `nowcast --demo` on free ports, opens the
// dashboard, then three /watch/demo tabs one after another (their QoE reports feed the latency
// chart), and screenshots /dashboard after about a minute. Not a test; run it by hand:
//   node scripts/build-player.mjs && flock /tmp/nowcast-heavy.lock npx tsx test/browser/dashboard-screenshot.ts
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../helpers/browser.js';
import { freeTcpPort } from '../helpers/ports.js';

const BIN = fileURLToPath(new URL('../../bin/nowcast.mjs', import.meta.url));
const OUT = fileURLToPath(new URL('../../docs/img/dashboard.png', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const [http, rtmp, ops] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
const app = spawn(process.execPath, [BIN, '--demo', '--host', '127.0.0.1', '--http-port', String(http), '--rtmp-port', String(rtmp), '--ops-port', String(ops),
  '--set', 'srt.listeners=[]', '--log-format', 'json', '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
const base = `http://127.0.0.1:${http}`;
try {
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/readyz`)).ok) break; } catch { /* not up yet */ }
    if (i > 100) throw new Error('nowcast did not start');
    await sleep(100);
  }
  const browser = await launchChromium();
  const dash = await browser.newPage({ viewport: { width: 1200, height: 680 }, deviceScaleFactor: 1 });
  await dash.goto(`http://127.0.0.1:${ops}/dashboard`);
  const tabs = [];
  for (let i = 0; i < 3; i++) {
    await sleep(12_000);
    const p = await browser.newPage({ viewport: { width: 480, height: 270 } });
    await p.goto(`${base}/watch/demo`);
    tabs.push(p);
    console.log(`watch tab ${i + 1} open`);
  }
  await sleep(30_000);
  await dash.screenshot({ path: OUT, fullPage: true });
  console.log(`wrote ${OUT}`);
  await browser.close();
} finally {
  app.kill('SIGINT');
}
