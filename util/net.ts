// Addresses: what counts as this host.

const LOOPBACK = /^(127\.|::1$|0{0,4}(:0{0,4}){6}:0{0,3}1$|::ffff:127\.)/i;

/** 127.0.0.0/8, ::1 (any spelling) and IPv4-mapped 127.x: a client on this host. */
export function isLoopback(ip: string): boolean {
  return LOOPBACK.test(ip);
}
