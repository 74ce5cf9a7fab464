// What a viewer may send (docs/protocol.md#viewer-messages): `ack` on its fast path, then
// `ping`, `rendition`, `probed` and `qoe`. Anything else is counted and changes nothing; nothing
// a viewer sends reaches another viewer or the stream.
import type { PongMessage } from '../protocol/messages.js';
import { parseRenditionRequest, type AbrSwitch } from './abr-switch.js';
import { parseAck } from './flow-ack.js';
import type { Stream } from './stream.js';
import type { Viewer } from './viewer.js';

/** What the relay lends the handler. */
export interface ViewerMessageContext {
  stream(name: string): Stream | undefined;
  readonly abr: AbrSwitch | null;
  /** A message the viewer should not have sent: counted, and logged within its address's budget. */
  bad(ws: Viewer, why: string): void;
  /** An ack naming a generation or chunk the stream does not hold. */
  staleAck(): void;
}

export function onViewerMessage(ctx: ViewerMessageContext, ws: Viewer, message: ArrayBuffer, isBinary: boolean): void {
  if (isBinary) return ctx.bad(ws, 'binary');
  const ack = parseAck(message);
  if (ack) {
    const d = ws.getUserData();
    const s = ctx.stream(d.feed ?? d.stream);
    if (s && !s.onAck(ws, ack.g, ack.seq, Date.now())) ctx.staleAck();
    return;
  }
  let msg: unknown;
  try { msg = JSON.parse(Buffer.from(message).toString('utf8')); } catch { return ctx.bad(ws, 'not JSON'); }
  const type = typeof msg === 'object' && msg !== null ? (msg as { type?: unknown }).type : undefined;
  if (type === 'ping') {
    const t0 = (msg as { t0?: unknown }).t0;
    if (typeof t0 !== 'number' || !Number.isFinite(t0)) return ctx.bad(ws, 'bad ping');
    const pong: PongMessage = { type: 'pong', t0, serverTime: Date.now() };
    ws.send(JSON.stringify(pong), false);
    return;
  }
  if (type === 'ack') return ctx.bad(ws, 'bad ack');
  // An answer to no probe of ours (or on a relay without ABR), or one out of bounds.
  if (type === 'probed') return void (ctx.abr?.probed(ws, msg as object, Date.now()) || ctx.bad(ws, 'bad probed'));
  if (type === 'rendition') {
    const r = parseRenditionRequest(msg as object);
    return r ? ctx.abr?.request(ws, r) : ctx.bad(ws, 'bad rendition');
  }
  if (type === 'qoe') {
    // Validated, rate-limited and counted by the stream's aggregator; never throws.
    const d = ws.getUserData();
    const s = ctx.stream(d.stream);
    if (!s || d.closed) return;
    const r = s.qoe.offer(d.id, msg, Date.now(), d.openedAt);
    if (r === 'rejected' || r === 'implausible') ctx.bad(ws, r === 'rejected' ? 'invalid qoe' : 'implausible qoe');
    return;
  }
  ctx.bad(ws, 'unknown type');
}
