// NATS names for a cluster. Stream names (protocol/messages.ts STREAM_NAME_RE) hold no '.', '*'
// or '>', so they are safe as one subject token and as part of a KV key.

export interface Names {
  /** Live frames of one stream: init, chunks, state. */
  stream(name: string): string;
  /** Request for a stream's snapshot (init, state, cached GOP); the origin node answers. */
  snapshot(name: string): string;
  /** KV keys: the encoded init frame and the encoded state frame. */
  initKey(name: string): string;
  stateKey(name: string): string;
  /** KV key filter for every stream's state. */
  readonly allStates: string;
  readonly bucket: string;
}

export function names(prefix: string): Names {
  return {
    stream: (n) => `${prefix}.s.${n}`,
    snapshot: (n) => `${prefix}.snap.${n}`,
    initKey: (n) => `${n}.init`,
    stateKey: (n) => `${n}.state`,
    allStates: '*.state',
    bucket: `${prefix}_streams`,
  };
}

/** `key` of the stateKey form back to its stream name, or undefined. */
export function streamOfStateKey(key: string): string | undefined {
  return key.endsWith('.state') ? key.slice(0, -'.state'.length) : undefined;
}
