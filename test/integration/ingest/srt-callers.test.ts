// SRT callers on one port with real FFmpeg callers over loopback: told apart by streamid, refused
// in the handshake when their credentials or the limits say so, and each one's failure or
// disappearance its own.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import type { Publisher } from '../../helpers/publisher.js';
import { ffprobe } from '../../helpers/viewer.js';
import { Cast, srtCaller as caller } from '../../helpers/cast.js';
import { signToken } from '../../../admission/auth.js';
import { processes, srtGateway } from '../../helpers/processes.js';
import type { StateMessage } from '../../../protocol/messages.js';

const SECRET = 'srt-test-secret-0123456789abcdef';
// FFmpeg passes a URL's passphrase= undecoded: nothing here needs encoding.
const PASSPHRASE = 'srtPassphrase0123';
let n: Running;
let locked: Running;
const cast = new Cast({ width: 256, height: 144 });
const publish = cast.publish.bind(cast);
const view = cast.view.bind(cast);
/** A caller's FFmpeg exit code, within 10 s (a refused handshake ends it at once). */
async function exitCode(p: Publisher): Promise<number | null> {
  const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  const code = await p.exited;
  clearTimeout(t);
  return code;
}

beforeAll(async () => {
  n = await startNowcast({
    srtStreams: ['srtdefault'],
    security: { secret: SECRET, publishKeys: [{ stream: 'keyed', key: 'the-right-key' }] },
    srt: { maxCallers: 20, idleTimeoutMs: 3000 },
  });
  // Per-address limits applied to loopback, and a passphrase on the port.
  locked = await startNowcast({ srtStreams: ['lockdefault'], limits: { limitLoopback: true }, srt: { maxCallersPerIp: 2, passphrase: PASSPHRASE } });
});

// Each test's callers end with it: the machine is shared, and limits count live callers.
afterEach(() => cast.end());

afterAll(async () => {
  n?.app.close();
  locked?.app.close();
});

describe('SRT callers on one port', () => {
  it('makes two callers with different streamids two streams that never mix', async () => {
    const a = view(n, 'sida');
    const b = view(n, 'sidb');
    await Promise.all([a.opened, b.opened]);
    publish({ url: caller(n, '#!::r=sida,m=publish'), format: 'mpegts', width: 320, height: 240 });
    publish({ url: caller(n, 'publish:sidb'), format: 'mpegts', width: 160, height: 96 });
    await a.until(() => a.chunks().length >= 45 && b.chunks().length >= 45, 30_000, '45 chunks on both');
    expect(ffprobe(a.concat()).streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 320, height: 240 });
    expect(ffprobe(b.concat()).streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 160, height: 96 });
    const aBytes = new Set(a.chunks().map((c) => c.bytes.toString('base64')));
    expect(b.chunks().some((c) => aBytes.has(c.bytes.toString('base64')))).toBe(false);
  });

  it('gives a caller without a streamid the port\'s configured stream', async () => {
    const v = view(n, 'srtdefault');
    await v.opened;
    publish({ url: n.srt(n.srtPorts[0]!), format: 'mpegts' });
    await v.until(() => v.chunks().length >= 10, 30_000, '10 chunks on the default stream');
  });

  it('refuses a caller with a bad key or token in the handshake, and the legitimate caller is unaffected', async () => {
    const good = view(n, 'keyed');
    await good.opened;
    publish({ url: caller(n, '#!::r=keyed,m=publish,s=the-right-key'), format: 'mpegts' });
    await good.until(() => good.chunks().length >= 15, 30_000, 'the keyed stream to run');
    const before = n.app.ingest.errors.get('srt', 'KEY_WRONG');
    const wrongKey = publish({ url: caller(n, '#!::r=keyed,m=publish,s=not-the-key'), format: 'mpegts' });
    const badToken = publish({ url: caller(n, 'publish:other?token=forged.token'), format: 'mpegts' });
    expect(await exitCode(wrongKey)).not.toBe(0);
    expect(await exitCode(badToken)).not.toBe(0);
    expect(n.app.ingest.errors.get('srt', 'KEY_WRONG')).toBe(before + 1);
    expect(n.app.ingest.errors.get('srt', 'TOKEN_BAD_SIGNATURE')).toBeGreaterThanOrEqual(1);
    const seen = good.chunks().length;
    await good.until(() => good.chunks().length >= seen + 30, 20_000, 'the legitimate caller to keep going');
    expect(good.inits()).toHaveLength(1);
  });

  it('admits a caller with a signed publish token in t=', async () => {
    const token = signToken(SECRET, { s: 'tokened', a: 'publish', e: Math.floor(Date.now() / 1000) + 600 });
    const v = view(n, 'tokened');
    await v.opened;
    publish({ url: caller(n, `#!::r=tokened,m=publish,t=${token}`), format: 'mpegts' });
    await v.until(() => v.chunks().length >= 10, 30_000, '10 chunks from the token holder');
  });

  it('refuses a second caller with other credentials for a live name, and a caller asking to play', async () => {
    const v = view(n, 'taken');
    await v.opened;
    const token = signToken(SECRET, { s: 'taken', a: 'publish', e: Math.floor(Date.now() / 1000) + 600 });
    publish({ url: caller(n, `publish:taken?token=${token}`), format: 'mpegts' });
    await v.until(() => v.chunks().length >= 10, 30_000, 'the first caller');
    const taken = n.app.ingest.errors.get('srt', 'STREAM_TAKEN');
    expect(await exitCode(publish({ url: caller(n, 'publish:taken'), format: 'mpegts' }))).not.toBe(0);
    expect(n.app.ingest.errors.get('srt', 'STREAM_TAKEN')).toBe(taken + 1);
    expect(await exitCode(publish({ url: caller(n, '#!::r=taken,m=request'), format: 'mpegts' }))).not.toBe(0);
    expect(n.app.ingest.errors.get('srt', 'STREAMID_MODE')).toBeGreaterThanOrEqual(1);
  });

  it('frees the stream of a caller that was killed, so a new caller with its token publishes at once', async () => {
    const token = signToken(SECRET, { s: 'killed', a: 'publish', e: Math.floor(Date.now() / 1000) + 600 });
    const v = view(n, 'killed');
    await v.opened;
    const first = publish({ url: caller(n, `#!::r=killed,m=publish,t=${token}`), format: 'mpegts' });
    await v.until(() => v.chunks().length >= 15, 30_000, 'the first caller');
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    const inits = v.inits().length;
    publish({ url: caller(n, `#!::r=killed,m=publish,t=${token}`), format: 'mpegts', width: 160, height: 96 });
    await v.until(() => v.inits().length > inits && v.chunks().at(-1)!.at > killedAt, 30_000, 'the new caller on the same name');
    // Well before libsrt's idle timeout (3 s here) would have freed the name.
    expect(n.app.ingest.publishers().filter((p) => p.stream === 'killed')).toHaveLength(1);
  });

  it('never gives a live anonymous caller\'s name to another anonymous caller, though both come from one address', async () => {
    const v = view(n, 'anon');
    await v.opened;
    publish({ url: caller(n, 'publish:anon'), format: 'mpegts' });
    await v.until(() => v.chunks().length >= 15, 30_000, 'the first caller');
    const taken = n.app.ingest.errors.get('srt', 'STREAM_TAKEN');
    expect(await exitCode(publish({ url: caller(n, 'publish:anon'), format: 'mpegts', width: 160, height: 96 }))).not.toBe(0);
    expect(n.app.ingest.errors.get('srt', 'STREAM_TAKEN')).toBe(taken + 1);
    const seen = v.chunks().length;
    await v.until(() => v.chunks().length >= seen + 30, 20_000, 'the first caller to keep going');
    expect(v.inits()).toHaveLength(1);
  });

  it('gives a killed anonymous caller\'s name to a new anonymous caller once it has been silent a second', async () => {
    const v = view(n, 'anonkilled');
    await v.opened;
    const first = publish({ url: caller(n, 'publish:anonkilled'), format: 'mpegts' });
    await v.until(() => v.chunks().length >= 15, 30_000, 'the first caller');
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    const inits = v.inits().length;
    // As a publisher's retry would: refused while the old caller may still be live, then admitted.
    for (let i = 0; i < 20 && v.inits().length === inits; i++) {
      const p = publish({ url: caller(n, 'publish:anonkilled'), format: 'mpegts', width: 160, height: 96 });
      const code = await Promise.race([p.exited, v.until(() => v.inits().length > inits, 10_000, 'the retry').then(() => 'in', () => 'timeout')]);
      if (code !== 'in' && code !== 'timeout') { await new Promise((r) => setTimeout(r, 250)); continue; }
      break;
    }
    await v.until(() => v.inits().length > inits && v.chunks().at(-1)!.at > killedAt, 30_000, 'a new caller on the name');
    expect(n.app.ingest.publishers().filter((p) => p.stream === 'anonkilled')).toHaveLength(1);
  });

  it('fails only the stream of a caller sending malformed MPEG-TS', async () => {
    const good = view(n, 'healthy');
    const bad = view(n, 'garbage');
    await Promise.all([good.opened, bad.opened]);
    publish({ url: caller(n, 'publish:healthy'), format: 'mpegts' });
    await good.until(() => good.chunks().length >= 15, 30_000, 'the healthy caller');
    // Random PCM bytes where MPEG-TS should be: 768 KB in 4 s, past the 512 KiB in which a program table must come.
    const junk = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'quiet', '-re', '-f', 'lavfi', '-i', 'anoisesrc=d=4:r=48000', '-ac', '2', '-c:a', 'pcm_s16le', '-f', 's16le',
      caller(n, 'publish:garbage')], { stdio: 'ignore' });
    const seen = good.chunks().length;
    const failed = (): StateMessage | undefined => bad.texts('state').find((m) => (m as StateMessage).state === 'error') as StateMessage | undefined;
    await bad.until(() => failed() !== undefined, 15_000, 'the malformed caller\'s stream to fail');
    expect(failed()).toMatchObject({ code: 'SRT_MEDIA_INVALID', message: expect.stringMatching(/TS_NO_PROGRAM/) });
    junk.kill('SIGKILL');
    await good.until(() => good.chunks().length >= seen + 60, 20_000, 'the healthy caller to keep going');
    expect(bad.chunks()).toHaveLength(0);
    expect(good.inits()).toHaveLength(1);
    await good.until(() => !n.app.ingest.publishers().some((p) => p.stream === 'garbage'), 10_000, 'the malformed caller to be gone');
  });
});

describe('the SRT gateway process', () => {
  it('is restarted after a crash, ending only its own callers, and takes callers again', async () => {
    const rtmpViewer = view(n, 'rtmpside');
    await rtmpViewer.opened;
    publish({ url: n.rtmp('rtmpside') });
    const v = view(n, 'beforecrash');
    await v.opened;
    publish({ url: caller(n, 'publish:beforecrash'), format: 'mpegts' });
    await v.until(() => v.chunks().length >= 10 && rtmpViewer.chunks().length >= 10, 30_000, 'an SRT and an RTMP stream');
    const gateway = srtGateway(n.srtPorts[0]!);
    expect(gateway).toBeDefined();
    process.kill(gateway!.pid, 'SIGKILL');
    await v.until(() => !n.app.ingest.publishers().some((p) => p.stream === 'beforecrash'), 10_000, 'its caller to be gone');
    const seen = rtmpViewer.chunks().length;
    const after = view(n, 'aftercrash');
    await after.opened;
    // FFmpeg does not retry a refused or unanswered handshake: call until the new process answers.
    for (let i = 0; i < 20 && after.chunks().length === 0; i++) {
      const p = publish({ url: caller(n, 'publish:aftercrash'), format: 'mpegts' });
      await Promise.race([p.exited, after.until(() => after.chunks().length > 0, 3_000, 'x').catch(() => {})]);
    }
    await after.until(() => after.chunks().length >= 10, 20_000, 'a caller after the restart');
    expect(rtmpViewer.chunks().length).toBeGreaterThan(seen);
  });
});

describe('SRT limits and passphrase', () => {
  it('refuses callers past the per-address limit in the handshake', async () => {
    const vs = ['lim1', 'lim2'].map((s) => view(locked, s));
    await Promise.all(vs.map((v) => v.opened));
    publish({ url: caller(locked, 'publish:lim1', `&passphrase=${PASSPHRASE}`), format: 'mpegts' });
    publish({ url: caller(locked, 'publish:lim2', `&passphrase=${PASSPHRASE}`), format: 'mpegts' });
    await vs[0]!.until(() => vs.every((v) => v.chunks().length >= 5), 30_000, 'two callers');
    const third = publish({ url: caller(locked, 'publish:lim3', `&passphrase=${PASSPHRASE}`), format: 'mpegts' });
    expect(await exitCode(third)).not.toBe(0);
    expect(locked.app.ingest.errors.get('srt', 'SRT_CALLER_LIMIT_IP')).toBe(1);
  });

  it('refuses a caller without the passphrase, and keeps the passphrase out of every process\'s arguments', async () => {
    expect(await exitCode(publish({ url: caller(locked, 'publish:nopass'), format: 'mpegts' }))).not.toBe(0);
    for (const { argv } of processes()) {
      const cmdline = argv.join('\0');
      if (cmdline.includes('srt-gateway')) expect(cmdline).not.toContain(PASSPHRASE);
      if (cmdline.includes('srt-gateway') || cmdline.includes('pipe:0')) expect(cmdline).not.toContain('passphrase');
    }
  });
});
