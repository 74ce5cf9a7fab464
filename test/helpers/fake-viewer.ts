// A uWS WebSocket stand-in for relay tests (relay/stream.ts, relay/abr-switch.ts): it records
// what was sent, and its send buffer and drops are set by the test.
import type { Viewer, ViewerData } from '../../relay/stream.js';
import { ViewerFlow } from '../../relay/flow.js';
import type { ServerMessage } from '../../protocol/messages.js';

/** A uWS WebSocket stand-in: records what was sent; end() marks it closed like the relay's close handler would. */
export class FakeSocket {
  readonly sent: Array<{ text: ServerMessage } | { bytes: Buffer }> = [];
  ended: { code: number; reason: string } | null = null;
  ends = 0;
  /** What getBufferedAmount() reports: the sweep reads it. */
  buffered = 0;
  /** Binary sends are dropped, as uWS does past maxBackpressure (send() returns 2). */
  dropBinary = false;
  constructor(readonly data: ViewerData, private readonly onEnd?: (s: FakeSocket) => void) {}
  getUserData(): ViewerData { return this.data; }
  send(m: string | Buffer, isBinary: boolean): number {
    if (isBinary && this.dropBinary) return 2;
    this.sent.push(isBinary ? { bytes: Buffer.from(m) } : { text: JSON.parse(String(m)) as ServerMessage });
    return 1;
  }
  cork(fn: () => void): this { fn(); return this; }
  getBufferedAmount(): number { return this.buffered; }
  end(code: number, reason: string): void {
    this.ends++;
    this.ended = { code, reason };
    this.data.closed = true;
    this.onEnd?.(this);
  }
  get viewer(): Viewer { return this as unknown as Viewer; }
  texts(type: string): ServerMessage[] {
    return this.sent.flatMap((s) => ('text' in s && s.text.type === type ? [s.text] : []));
  }
  binaries(): Buffer[] {
    return this.sent.flatMap((s) => ('bytes' in s ? [s.bytes] : []));
  }
  inits(): Buffer[] {
    return this.binaries().filter((b) => b.toString('latin1', 4, 8) === 'ftyp');
  }
  chunks(): Buffer[] {
    return this.binaries().filter((b) => b.toString('latin1', 4, 8) === 'moof');
  }
}

let nextId = 1;
export const data = (o: Partial<ViewerData> = {}): ViewerData => ({
  id: nextId++, stream: 's', ip: '203.0.113.1', state: 'waiting', skipFromChunk: -1, skipFromBytes: 0, closed: false,
  openedAt: Date.now(), releaseWait: null, waitUntil: 0, flow: new ViewerFlow(), ...o,
});

