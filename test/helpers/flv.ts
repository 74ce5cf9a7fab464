// Shared by the FLV reader and remuxer tests.
import { FlvError } from '../../ingest/flv/reader.js';

/** The FlvError `fn` throws; fails the test if it throws anything else or nothing. */
export function errorOf(fn: () => unknown): FlvError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FlvError) return err;
    throw err;
  }
  throw new Error('expected an FlvError');
}
