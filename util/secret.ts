// Comparing secrets (publish keys, tokens, bearer tokens) in time that depends on neither.
import { createHash, timingSafeEqual } from 'node:crypto';

/** Equal strings, in constant time: both are hashed to 32 bytes first, so lengths leak nothing. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
