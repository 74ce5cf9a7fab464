// The control messages a stream builds for its viewers (docs/protocol.md), in one place.
import { ACK_INTERVAL_MS, MAX_JITTER_MS, PROTOCOL_VERSION, type HelloMessage, type ServerMessage, type ServiceDescription, type StreamState } from '../protocol/messages.js';

/**
 * `hello`, with the stream's arrival jitter (s; NaN: not measured yet) as jitterMs when known
 * and plausible: stamps hours off (a publisher's clock, or a hostile one) give none.
 */
export function helloMessage(stream: string, service: ServiceDescription, jitterS: number, now: number, ackMs: number = ACK_INTERVAL_MS): HelloMessage {
  const m: HelloMessage = { type: 'hello', version: PROTOCOL_VERSION, stream, serverTime: now, service };
  const ms = Math.round(jitterS * 1000);
  if (ms >= 0 && ms <= MAX_JITTER_MS) m.jitterMs = ms;
  if (ackMs !== ACK_INTERVAL_MS) m.ackMs = ackMs;
  return m;
}

/** `state`, with its code and message only when set. */
export function stateMessage(stream: string, state: StreamState, code: string | undefined, message: string | undefined): ServerMessage {
  const m: ServerMessage = { type: 'state', stream, state };
  if (code) m.code = code;
  if (message) m.message = message;
  return m;
}
