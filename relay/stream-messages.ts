// The control messages a stream builds for its viewers (docs/protocol.md), in one place.
import { PROTOCOL_VERSION, type HelloMessage, type ServerMessage, type ServiceDescription, type StreamState } from '../protocol/messages.js';

/** `hello`, with the stream's arrival jitter (s; NaN: not measured yet) as jitterMs when known. */
export function helloMessage(stream: string, service: ServiceDescription, jitterS: number, now: number): HelloMessage {
  const m: HelloMessage = { type: 'hello', version: PROTOCOL_VERSION, stream, serverTime: now, service };
  if (Number.isFinite(jitterS)) m.jitterMs = Math.round(jitterS * 1000);
  return m;
}

/** `state`, with its code and message only when set. */
export function stateMessage(stream: string, state: StreamState, code: string | undefined, message: string | undefined): ServerMessage {
  const m: ServerMessage = { type: 'state', stream, state };
  if (code) m.code = code;
  if (message) m.message = message;
  return m;
}
