// Switching on real parts: Nowcast with abr.enabled, a real publish, real transcoders, and a
// WebSocket viewer that pins renditions with the `rendition` control message. Each switch
// must land on a keyframe of the target, with the target's info and init just before it, and
// the media timeline must go on without a gap or an overlap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { Publisher } from '../../helpers/publisher.js';
import { Viewer, type Received } from '../../helpers/viewer.js';
import type { InfoMessage } from '../../../protocol/messages.js';

const LADDER = [{ name: '240p', height: 240, videoBitrate: 500_000 }, { name: '120p', height: 120, videoBitrate: 150_000 }];

/** The video height each chunk was sent under (the latest info's), with the chunk. */
function timeline(rs: Received[]): Array<{ height: number; dts: number; keyframe: boolean; afterInit: boolean }> {
  let height = 0;
  let afterInit = false;
  const out: Array<{ height: number; dts: number; keyframe: boolean; afterInit: boolean }> = [];
  for (const r of rs) {
    if (r.kind === 'text' && r.msg.type === 'info') height = (r.msg as InfoMessage).tracks.find((t) => t.kind === 'video')?.height ?? 0;
    else if (r.kind === 'binary' && r.unit.kind === 'init') afterInit = true;
    else if (r.kind === 'binary' && r.unit.kind === 'chunk') {
      out.push({ height, dts: r.unit.dts, keyframe: r.unit.keyframe, afterInit });
      afterInit = false;
    }
  }
  return out;
}

describe('switching renditions', () => {
  let n: Running;
  let pub: Publisher;

  beforeAll(async () => {
    n = await startNowcast({ abr: { enabled: true, ladder: LADDER } });
    pub = new Publisher({ url: n.rtmp('sw'), width: 640, height: 360, durationS: 90 });
  });
  afterAll(async () => {
    await pub?.stop();
    await n?.app.close();
  });

  it('switches down and back up at keyframes, with the media time going on without a gap', async () => {
    const v = new Viewer(n.ws('sw'));
    await v.until(() => v.chunks().length > 10, 20_000, 'the source');
    const heights = (): number[] => timeline(v.received).map((c) => c.height).filter((h, i, all) => h !== all[i - 1]);
    v.ws.send(JSON.stringify({ type: 'rendition', rendition: '120p' }));
    await v.until(() => timeline(v.received).filter((c) => c.height === 120).length > 45, 20_000, 'the 120p rendition');
    v.ws.send(JSON.stringify({ type: 'rendition', rendition: '240p' }));
    await v.until(() => timeline(v.received).filter((c) => c.height === 240).length > 45, 20_000, 'the 240p rendition');
    v.ws.send(JSON.stringify({ type: 'rendition', rendition: 'source' }));
    await v.until(() => timeline(v.received).filter((c, i, all) => c.height === 360 && all.slice(0, i).some((x) => x.height === 240)).length > 45, 20_000, 'back on the source');
    v.close();
    expect(heights()).toEqual([360, 120, 240, 360]);
    const t = timeline(v.received);
    for (let i = 1; i < t.length; i++) {
      const [a, b] = [t[i - 1]!, t[i]!];
      // Every rendition change: a new init, then a keyframe…
      if (a.height !== b.height) expect(b, `switch at chunk ${i}`).toMatchObject({ afterInit: true, keyframe: true });
      // …and decode time going on by one frame (33 ms at 30 fps; chunks may carry audio only around it).
      expect(b.dts - a.dts, `chunk ${i} (${a.height}p ${a.dts} → ${b.height}p ${b.dts})`).toBeGreaterThan(0);
      expect(b.dts - a.dts).toBeLessThan(0.1);
    }
  });

  it('sends a viewer home to the source when its rendition\'s transcoder dies, and the rendition comes back', async () => {
    const v = new Viewer(n.ws('sw'));
    await v.until(() => v.chunks().length > 10, 20_000, 'the source');
    v.ws.send(JSON.stringify({ type: 'rendition', rendition: '120p' }));
    await v.until(() => timeline(v.received).filter((c) => c.height === 120).length > 30, 20_000, 'the 120p rendition');
    const pid = n.app.abr!.pid('sw', '120p')!;
    process.kill(pid, 'SIGKILL');
    const killedAt = v.received.length;
    await v.until(() => timeline(v.received.slice(killedAt)).some((c) => c.height === 360), 10_000, 'the source again');
    // The other rendition was never touched; the pin brings the viewer back once 120p runs again.
    await v.until(() => n.app.abr!.pid('sw', '120p') !== pid && timeline(v.received.slice(killedAt)).filter((c) => c.height === 120).length > 30, 30_000, '120p again');
    v.close();
  });

  it('sends a pinned viewer home when its rendition is no longer made (the publisher came back smaller)', async () => {
    const first = new Publisher({ url: n.rtmp('orph'), width: 640, height: 360, durationS: 60 });
    const v = new Viewer(n.ws('orph'));
    const feeds = (): string[] => v.texts('info').map((m) => (m as InfoMessage).stream);
    try {
      await v.until(() => v.chunks().length > 10, 20_000, 'the source');
      v.ws.send(JSON.stringify({ type: 'rendition', rendition: '120p' }));
      await v.until(() => feeds().includes('orph~120p'), 20_000, 'the 120p rendition');
      await first.stop();
      // Back at 120 px: no rendition at or above the source's height is made, so 120p is gone.
      const again = new Publisher({ url: n.rtmp('orph'), width: 160, height: 120, durationS: 60 });
      try {
        const at = v.received.length;
        await v.until(() => timeline(v.received.slice(at)).length > 30 && feeds().at(-1) === 'orph', 30_000, 'the source again');
        expect(n.app.abr!.renditions('orph')).toEqual([]);
      } finally {
        await again.stop();
      }
    } finally {
      v.close();
      await first.stop();
    }
  });
});
