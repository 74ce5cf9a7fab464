// Bandwidth probes on real sockets: the real relay, a real WebSocket viewer, and a rule that
// asks for a probe (the rule itself is table-tested in test/abr/switch-rule.test.ts; the real
// rule and player meet in test/browser/abr.test.ts). The probe's two text frames must reach the
// viewer back to back, with nothing between them; its answer must be taken for that probe only,
// and anything else a viewer answers refused and counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { defaults, loadConfig } from '../../../app/config.js';
import { createRootLogger } from '../../../util/log.js';
import { Relay } from '../../../relay/relay.js';
import type { AbrPolicy } from '../../../relay/abr-switch.js';
import { Pacer } from '../../../bench/fanout/lib/pacer.js';
import { loadSource } from '../../../bench/fanout/lib/source.js';
import { probeBytes } from '../../../relay/probe.js';

const dir = mkdtempSync(join(tmpdir(), 'nowcast-probe-'));
let relay: Relay;
const pacers: Pacer[] = [];
/** What the test's rule asks for next: a probe of this rate (bits/s), or none. */
let askBps = 0;

const policy: AbrPolicy = {
  renditions: (stream) => (stream === 'p' || stream === 'fat' ? [{ name: 'low', height: 120, bitrate: 100_000, stream: `${stream}~low`, up: true }] : []),
  viewer: () => (_path, _ladder, current) => {
    const probeBps = askBps;
    askBps = 0;
    return { rendition: current, probeBps };
  },
};

beforeAll(async () => {
  const file = join(dir, 'src.mp4');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-t', '2',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '30', '-an',
    '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof', '-frag_duration', '33333', '-write_prft', 'wallclock', file]);
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr?.toString()}`);
  relay = new Relay({ config: loadConfig({}, {}).relay, log: createRootLogger('silent'), service: () => defaults.latency.default, abr: policy });
  await relay.listen('127.0.0.1', 0);
  for (const name of ['p', 'p~low', 'fat', 'fat~low']) {
    const src = loadSource(file);
    // ~4 MB/s: a viewer that stops reading fills the kernel's loopback buffers (several MB) within seconds, then the relay's.
    if (name === 'fat') for (const c of src.chunks) c.bytes = Buffer.concat([c.bytes, freeBox(128 * 1024)]);
    const sink = relay.sink(name);
    sink.init(src.init);
    const pacer = new Pacer(src, 60, (c) => sink.chunk(c));
    pacer.start();
    pacers.push(pacer);
  }
});

afterAll(() => {
  for (const p of pacers) p.stop();
  relay?.close();
  rmSync(dir, { recursive: true, force: true });
});

function freeBox(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUInt32BE(bytes, 0);
  b.write('free', 4, 'latin1');
  return b;
}

interface Frame { text?: { type: string; id?: number; part?: number; pad?: string }; binary?: number; bytes: number }

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('bandwidth probes', () => {
  it('sends both parts back to back and takes the answer to that probe only', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/live/p`);
    const frames: Frame[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      frames.push(isBinary ? { binary: 1, bytes: data.length } : { text: JSON.parse(data.toString()) as Frame['text'], bytes: data.length });
    });
    await until(() => frames.filter((f) => f.binary).length > 10, 10_000, 'media');
    const bad0 = relay.badMessages;
    askBps = 2_700_000;
    await until(() => frames.some((f) => f.text?.type === 'probe' && f.text.part === 1), 5000, 'the probe');
    const i = frames.findIndex((f) => f.text?.type === 'probe' && f.text.part === 0);
    const [p0, p1] = [frames[i]!, frames[i + 1]!];
    expect(p1.text).toMatchObject({ type: 'probe', id: p0.text!.id, part: 1 });
    expect(p1.bytes).toBe(probeBytes(2_700_000));
    expect(relay.abrCounts).toMatchObject({ probes: 1, probesAnswered: 0 });

    // A forged id, a time out of bounds, and a time that is not a number: refused, counted, the probe still out.
    for (const m of [{ id: p0.text!.id! + 1, ms: 10 }, { id: p0.text!.id, ms: -5 }, { id: p0.text!.id, ms: 1e9 }, { id: p0.text!.id, ms: 'fast' }]) {
      ws.send(JSON.stringify({ type: 'probed', ...m }));
    }
    ws.send(JSON.stringify({ type: 'probed', id: p0.text!.id, ms: 40 }));
    // Answered twice: the second is no longer for a probe of ours.
    ws.send(JSON.stringify({ type: 'probed', id: p0.text!.id, ms: 1 }));
    await until(() => relay.badMessages >= bad0 + 5, 5000, 'the refusals');
    expect(relay.abrCounts).toMatchObject({ probes: 1, probesAnswered: 1 });
    expect(relay.badMessages).toBe(bad0 + 5);
    // And the viewer's media went on.
    const n = frames.filter((f) => f.binary).length;
    await until(() => frames.filter((f) => f.binary).length > n + 10, 5000, 'media after the probe');
    ws.close();
  });

  it('shrugs off a flood of forged and oversized answers: counted, no probe taken, and another viewer\'s media goes on', async () => {
    const other = new WebSocket(`ws://127.0.0.1:${relay.port}/live/p`);
    let otherChunks = 0;
    other.on('message', (_d: Buffer, isBinary: boolean) => { if (isBinary) otherChunks++; });
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/live/p`);
    await until(() => otherChunks > 5 && ws.readyState === WebSocket.OPEN, 10_000, 'media');
    const bad0 = relay.badMessages;
    const answered0 = relay.abrCounts!.probesAnswered;
    const forged = [
      '{"type":"probed"}', '{"type":"probed","id":1}', '{"type":"probed","id":1,"ms":null}', '{"type":"probed","id":[1],"ms":5}',
      '{"type":"probed","id":1e309,"ms":5}', '{"type":"probed","id":1,"ms":-0.0001}', '{"type":"probed","id":1,"ms', `{"type":"probed","id":1,"ms":5,"x":"${'y'.repeat(8000)}"}`,
    ];
    // Bounded: 2,000 messages, as fast as the socket takes them.
    for (let i = 0; i < 2000; i++) ws.send(forged[i % forged.length]!);
    const n = otherChunks;
    await until(() => relay.badMessages >= bad0 + 2000, 10_000, 'every forged answer counted');
    expect(relay.abrCounts!.probesAnswered).toBe(answered0);
    await until(() => otherChunks > n + 10, 5000, 'the other viewer\'s media');
    // Past relay.maxViewerMessageBytes (16 KiB): that socket is closed, nobody else's.
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(`{"type":"probed","id":1,"ms":5,"x":"${'y'.repeat(20_000)}"}`);
    expect(await closed).toBe(1006);
    const m = otherChunks;
    await until(() => otherChunks > m + 10, 5000, 'the other viewer\'s media after the close');
    other.close();
  });

  it('sends no probe into a viewer whose send buffer holds a backlog', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/live/fat`);
    let texts = 0;
    let binaries = 0;
    ws.on('message', (_d: Buffer, isBinary: boolean) => { if (isBinary) binaries++; else texts++; });
    await until(() => binaries > 5, 10_000, 'media');
    // Stop reading: the kernel's buffers fill, then the relay's send buffer past the probe's limit (16 KiB).
    ws.pause();
    const sent0 = relay.abrCounts!.probes;
    await new Promise((r) => setTimeout(r, 4000));
    askBps = 2_700_000;
    await new Promise((r) => setTimeout(r, 500));
    expect(askBps).toBe(0); // the rule was asked…
    expect(relay.abrCounts!.probes).toBe(sent0); // …and nothing went
    ws.terminate();
    expect(texts).toBeGreaterThan(0);
  });
});
