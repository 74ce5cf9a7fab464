// Refusals and protocol errors by protocol and stable code, for nowcast_protocol_errors_total.
// Codes come from fixed lists in the code (never from the peer), so the label set stays bounded.

export type ErrorProtocol = 'rtmp' | 'srt' | 'ws' | 'http';

export class ProtocolErrors {
  readonly #n = new Map<string, { protocol: ErrorProtocol; code: string; count: number }>();

  add(protocol: ErrorProtocol, code: string): void {
    const key = `${protocol}\u0000${code}`;
    const e = this.#n.get(key);
    if (e) e.count++;
    else this.#n.set(key, { protocol, code, count: 1 });
  }

  /** Count for one protocol and code (0 if never seen). */
  get(protocol: ErrorProtocol, code: string): number {
    return this.#n.get(`${protocol}\u0000${code}`)?.count ?? 0;
  }

  /** Every (protocol, code) seen, with its count, for a scrape. */
  entries(): Array<{ protocol: ErrorProtocol; code: string; count: number }> {
    return [...this.#n.values()].map((e) => ({ ...e }));
  }
}
