// The ack message's fast reader (docs/protocol.md#acknowledgements).

const ACK_HEAD = Buffer.from('{"type":"ack","g":');
const ACK_MID = Buffer.from(',"seq":');

/**
 * The ack, read without JSON.parse: it is the one message every viewer sends several times a
 * second, and its exact form is fixed (`{"type":"ack","g":N,"seq":N}`, what the player's
 * JSON.stringify writes). Anything else (spaces, other key order) returns null and takes the
 * general path, which then refuses a malformed ack.
 */
export function parseAck(message: ArrayBuffer): { g: number; seq: number } | null {
  const b = new Uint8Array(message);
  const head = ACK_HEAD;
  if (b.length < head.length + 9 || b.length > 64) return null;
  for (let i = 0; i < head.length; i++) if (b[i] !== head[i]) return null;
  let at = head.length;
  let g = 0;
  let digits = 0;
  for (; at < b.length && b[at]! >= 48 && b[at]! <= 57; at++, digits++) g = g * 10 + b[at]! - 48;
  // JSON's numbers: no leading zero (the fuzz test holds this reader to JSON.parse).
  if (digits === 0 || digits > 15 || (digits > 1 && b[head.length] === 48)) return null;
  const seqAt = at + ACK_MID.length;
  for (let i = 0; i < ACK_MID.length; i++, at++) if (b[at] !== ACK_MID[i]) return null;
  let seq = 0;
  digits = 0;
  for (; at < b.length && b[at]! >= 48 && b[at]! <= 57; at++, digits++) seq = seq * 10 + b[at]! - 48;
  if (digits === 0 || digits > 15 || (digits > 1 && b[seqAt] === 48) || at !== b.length - 1 || b[at] !== 125) return null;
  return { g, seq };
}
