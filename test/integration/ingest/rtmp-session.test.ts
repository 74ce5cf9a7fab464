// RtmpSession (ingest/rtmp/session.ts) on a fake socket: real publisher sequences are admitted
// and reach the feed as FLV tags; each hostile input closes the connection with its code.
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAmf0, type Amf0Value } from '../../../ingest/rtmp/amf0.js';
import { ChunkReader } from '../../../ingest/rtmp/chunk-reader.js';
import { RtmpSession, type PublishRefusal, type SessionLimits } from '../../../ingest/rtmp/session.js';
import type { RtmpPublisher } from '../../../ingest/rtmp/publishers.js';
import { feedHooks } from '../../helpers/rtmp-feeds.js';
import type { FlvTag } from '../../../ingest/flv/reader.js';
import { ChunkEncoder, FakeSocket, LIMITS, publishMessages, setDataFrame, type Flavor, type Msg } from '../../fuzz/rtmp-sessions.js';
import { C0C1, chunked, command, publishCommands } from '../../helpers/rtmp-client.js';
import { sampleTags, tagMessage } from '../../helpers/replay-publisher.js';

const C2 = Buffer.alloc(1536, 9);
const HANDSHAKE = Buffer.concat([C0C1(), C2]);

interface Run {
  session: RtmpSession;
  socket: FakeSocket;
  codes: string[];
  /** FLV tags the feed delivered (after the FLV header): type and body length. */
  tags: { type: number; length: number }[];
  published: RtmpPublisher[];
  unpublished: number;
  closed: number;
  /** Decoded commands we sent back. */
  replies(): Amf0Value[][];
  statusCodes(): string[];
}

function start(opts: { limits?: Partial<SessionLimits>; refuse?: PublishRefusal; backlogAfter?: number } = {}): Run {
  const socket = new FakeSocket(true, opts.backlogAfter);
  const r: Omit<Run, 'session'> & { session?: RtmpSession } = {
    socket, codes: [], tags: [], published: [], unpublished: 0, closed: 0,
    replies: () => {
      const bytes = Buffer.concat(socket.writes).subarray(3073);
      const reader = new ChunkReader({ maxChunkSize: 1 << 20, maxChunkStreams: 64, maxLength: () => 1 << 20, memoryBytes: () => 1 << 22 });
      const out: Amf0Value[][] = [];
      reader.push(bytes, (m) => {
        if (m.typeId === 1) reader.setChunkSize(m.payload.readUInt32BE(0));
        if (m.typeId === 20) out.push(decodeAmf0(m.payload));
        return true;
      });
      return out;
    },
    statusCodes: () => r.replies().filter((c) => c[0] === 'onStatus' || c[0] === '_error').map((c) => (c[3] as { code?: string }).code ?? ''),
  };
  const limits = { ...LIMITS.defaults, ...opts.limits };
  r.session = new RtmpSession(socket, '203.0.113.7:5000', limits, feedHooks({
    publish: (p) => {
      r.published.push(p);
      let first = true;
      p.subscribe((flv) => {
        if (first) { first = false; return; }
        r.tags.push({ type: flv[0]!, length: flv.readUIntBE(1, 3) });
      }, false);
      return opts.refuse ?? null;
    },
    unpublish: () => { r.unpublished++; },
  }, limits, () => r.session, {
    error: (code) => { r.codes.push(code); },
    closed: () => { r.closed++; },
  }));
  return r as Run;
}

let tags: FlvTag[] = [];
beforeAll(() => { tags = sampleTags().slice(0, 40); });

/** A publisher's whole session as one flavor encodes it (header compression for FFmpeg). */
function publishBytes(flavor: Flavor, key = 'stream?token=t', app = 'live'): Buffer {
  const enc = new ChunkEncoder({ compress: flavor === 'ffmpeg' });
  const msgs: Msg[] = publishMessages(flavor, app, key, 4096);
  for (const t of tags) {
    if (t.type === 18) msgs.push(setDataFrame(t.body));
    else msgs.push({ csid: t.type === 8 ? 4 : 6, typeId: t.type, streamId: 1, timestamp: t.timestamp, payload: t.body });
  }
  const parts: Buffer[] = [HANDSHAKE];
  for (const m of msgs) {
    parts.push(enc.encode(m));
    if (m.typeId === 1) enc.chunkSize = m.payload.readUInt32BE(0);
  }
  return Buffer.concat(parts);
}

describe('publishers that are admitted', () => {
  it.each(['obs', 'ffmpeg'] as const)('admits a %s-like publish and delivers its media to the feed as FLV tags', (flavor) => {
    const r = start();
    r.session.data(publishBytes(flavor));
    expect(r.codes).toEqual([]);
    expect(r.session.publishing).toBe(true);
    expect(r.published.map((p) => [p.name, p.key])).toEqual([['stream', 't']]);
    expect(r.statusCodes()).toEqual(['NetStream.Publish.Start']);
    expect(r.replies()[0]?.[0]).toBe('_result');
    expect(r.tags).toEqual(tags.map((t) => ({ type: t.type, length: t.body.length })));
    r.session.socketClosed();
    expect([r.unpublished, r.closed]).toEqual([1, 1]);
  });

  it('keeps the metadata of an @setDataFrame sent as an AMF0 long string', () => {
    const r = start();
    const bytes = publishBytes('obs');
    r.session.data(bytes);
    const meta: { name: string; body: Buffer }[] = [];
    r.published[0]!.subscribe((flv) => { if (flv[0] === 18) meta.push({ name: 'tag', body: flv.subarray(11, flv.length - 4) }); }, false);
    const onMeta = Buffer.from([0x02, 0, 10, ...Buffer.from('onMetaData'), 0x05]);
    const long = Buffer.concat([Buffer.from([0x0c, 0, 0, 0, 13]), Buffer.from('@setDataFrame'), onMeta]);
    r.session.data(chunked(5, 18, 1, 0, long, 4096));
    expect(meta.at(-1)?.body.equals(onMeta)).toBe(true);
  });

  it('admits a publish read one byte at a time', () => {
    const r = start();
    const bytes = publishBytes('ffmpeg');
    for (let i = 0; i < bytes.length; i++) r.session.data(bytes.subarray(i, i + 1));
    expect(r.codes).toEqual([]);
    expect(r.tags).toHaveLength(tags.length);
  });

  it('admits the publishCommands() of the test client at chunk size 128', () => {
    const r = start();
    r.session.data(Buffer.concat([HANDSHAKE, publishCommands('live', 'cam'), tagMessage(tags[1]!, 0, 128)]));
    expect(r.codes).toEqual([]);
    expect(r.tags).toHaveLength(1);
  });
});

describe('hostile sessions close with their code', () => {
  const before = Buffer.concat([HANDSHAKE, command(['connect', 1, { app: 'live' }]), command(['createStream', 2, null])]);
  const cases: [string, Buffer, string, string[]?][] = [
    ['a zero-length control message', Buffer.concat([HANDSHAKE, chunked(2, 1, 0, 0, Buffer.alloc(0))]), 'RTMP_BAD_MESSAGE'],
    ['a zero-length user control message', Buffer.concat([HANDSHAKE, chunked(2, 4, 0, 0, Buffer.alloc(0))]), 'RTMP_BAD_MESSAGE'],
    ['a zero-length video message', Buffer.concat([HANDSHAKE, publishCommands('live', 's'), chunked(6, 9, 1, 0, Buffer.alloc(0))]), 'RTMP_BAD_MESSAGE'],
    ['a truncated AMF0 command', Buffer.concat([HANDSHAKE, chunked(3, 20, 0, 0, Buffer.from('020007636f6e6e656374000000', 'hex'))]), 'RTMP_BAD_COMMAND'],
    ['an unknown AMF0 marker', Buffer.concat([HANDSHAKE, chunked(3, 20, 0, 0, Buffer.from('0200077075626c69736811', 'hex'))]), 'RTMP_BAD_COMMAND'],
    ['connect without an app', Buffer.concat([HANDSHAKE, command(['connect', 1, { tcUrl: 'rtmp://x/live' }])]), 'RTMP_BAD_COMMAND'],
    ['a publish whose name is not a string', Buffer.concat([before, command(['publish', 3, null, 42, 'live'], 1)]), 'RTMP_BAD_COMMAND'],
    ['a publish name over 1024 characters', Buffer.concat([before, command(['publish', 3, null, 'x'.repeat(1025), 'live'], 1)]), 'RTMP_BAD_COMMAND'],
    ['media before publish', Buffer.concat([before, chunked(6, 9, 1, 0, Buffer.from([0x17, 1, 0, 0, 0]))]), 'RTMP_UNEXPECTED'],
    ['publish before createStream', Buffer.concat([HANDSHAKE, command(['connect', 1, { app: 'live' }]), command(['publish', 3, null, 's'], 1)]), 'RTMP_UNEXPECTED'],
    ['a second publish', Buffer.concat([HANDSHAKE, publishCommands('live', 's'), command(['publish', 6, null, 's2'], 1)]), 'RTMP_UNEXPECTED'],
    ['play', Buffer.concat([before, command(['play', 3, null, 's'], 1)]), 'RTMP_PLAY_REFUSED', ['NetStream.Play.Failed']],
    ['a wrong app', Buffer.concat([HANDSHAKE, command(['connect', 1, { app: 'other' }])]), 'RTMP_APP_UNKNOWN', ['NetConnection.Connect.Rejected']],
    ['a C0 other than version 3', Buffer.concat([Buffer.from([6]), Buffer.alloc(1536)]), 'RTMP_BAD_HANDSHAKE'],
    ['an aggregate message', Buffer.concat([HANDSHAKE, publishCommands('live', 's'), chunked(6, 22, 1, 0, Buffer.alloc(11))]), 'RTMP_BAD_MESSAGE'],
    ['a command longer than maxCommandBytes', Buffer.concat([HANDSHAKE, chunked(3, 20, 0, 0, Buffer.alloc(8 * 1024 + 1))]), 'RTMP_MESSAGE_TOO_LARGE'],
  ];
  it.each(cases)('%s', (_name, bytes, code, statuses) => {
    const r = start();
    r.session.data(bytes);
    expect(r.codes).toEqual([code]);
    expect(r.session.closed).toBe(true);
    expect(r.closed).toBe(1);
    expect(r.tags).toEqual([]);
    if (statuses) expect(r.statusCodes()).toEqual(statuses);
  });

  it('refuses media sent before publish in the same read as the publish', () => {
    const r = start();
    r.session.data(Buffer.concat([before, chunked(6, 9, 1, 0, Buffer.from([0x17, 1, 0, 0, 0])), command(['publish', 3, null, 's'], 1)]));
    expect(r.codes).toEqual(['RTMP_UNEXPECTED']);
    expect(r.published).toEqual([]);
  });

  it.each(['BadName', 'Unauthorized', 'Rejected'] as const)('answers a refusal with NetStream.Publish.%s, and nothing after the publish command reaches the feed', (status) => {
    const r = start({ refuse: { code: 'TEST_REFUSED', message: 'no', status } });
    const media = tags.slice(0, 10).map((t) => tagMessage(t, t.timestamp, 128));
    r.session.data(Buffer.concat([HANDSHAKE, publishCommands('live', 's'), ...media]));
    expect(r.codes).toEqual(['TEST_REFUSED']);
    expect(r.statusCodes()).toEqual([`NetStream.Publish.${status}`]);
    expect(r.tags).toEqual([]);
    expect(r.session.closed).toBe(true);
    expect(r.socket.ended).toBe(true);
    expect(r.unpublished).toBe(0);
  });

  it('counts one error when the reply to a refusal overflows the write backlog', () => {
    // The socket stops draining after the S0 S1 S2 and connect replies: the refusal's reply is the
    // write that crosses the backlog cap.
    const r = start({ refuse: { code: 'TEST_REFUSED', message: 'no', status: 'BadName' }, backlogAfter: 3 });
    r.session.data(Buffer.concat([HANDSHAKE, publishCommands('live', 's')]));
    expect(r.codes).toHaveLength(1);
  });

  // Writes: S0 S1 S2, then one per reply (connect, createStream, play).
  it.each([
    ['play', Buffer.concat([before, command(['play', 3, null, 's'], 1)]), 3],
    ['a wrong app', Buffer.concat([HANDSHAKE, command(['connect', 1, { app: 'other' }])]), 1],
  ])('counts one error when the reply to %s overflows the write backlog', (_name, bytes, backlogAfter) => {
    const r = start({ backlogAfter });
    r.session.data(bytes);
    expect(r.codes).toHaveLength(1);
  });

  it('reads a connect whose app is a long run of slashes in linear time', () => {
    const r = start({ limits: { maxCommandBytes: 64 * 1024, preAdmitBytes: 128 * 1024 } });
    const bytes = Buffer.concat([HANDSHAKE, command(['connect', 1, { app: `${'/'.repeat(40_000)}x` }], 0, 65_536)]);
    const t0 = performance.now();
    r.session.data(Buffer.concat([bytes.subarray(0, 3073), chunked(2, 1, 0, 0, Buffer.from([0, 1, 0, 0])), bytes.subarray(3073)]));
    const ms = performance.now() - t0;
    expect(r.codes).toEqual(['RTMP_APP_UNKNOWN']);
    expect(ms).toBeLessThan(100); // quadratic (a /\/+$/ scan) took seconds
  });

  it('keeps heldBytes within preAdmitBytes before admission', () => {
    const r = start({ limits: { preAdmitBytes: 8 * 1024 } });
    // 16 chunk streams each declaring 8 KiB, each sending 600 bytes: the ceiling closes it.
    const parts: Buffer[] = [HANDSHAKE];
    for (let csid = 3; csid < 19; csid++) parts.push(chunked(csid, 20, 0, 0, Buffer.alloc(8 * 1024), 600).subarray(0, 12 + 600));
    // Chunk size 600 first, so that each stream's first chunk ends after 600 bytes.
    r.session.data(Buffer.concat([parts[0]!, chunked(2, 1, 0, 0, Buffer.from([0, 0, 2, 0x58])), ...parts.slice(1)]));
    expect(r.codes).toEqual(['RTMP_MEMORY']);
  });
});
