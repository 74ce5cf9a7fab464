// The RTMP thread: every RTMP connection (handshakes, chunk parsing, AMF0, timeouts, the
// attackers' churn and garbage) lives here, on its own event loop and V8 heap, so none of it
// pauses the relay's fan-out or its public /livez. The relay's thread decides admission and
// receives only admitted publishers' tag bodies (thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { workerLogger } from '../../util/worker-thread.js';
import { ownThreadId } from '../../util/threads.js';
import { RtmpServer } from './server.js';
import type { Admission } from './session.js';
import type { RtmpWorkerData, ToMain, ToWorker } from './thread-messages.js';
import { HeapStep } from '../../util/heap-step.js';

const port = parentPort!;
// Attackers' garbage is collected in small steps here, not V8's (util/heap-step.ts).
const heap = new HeapStep();
const { options, level } = workerData as RtmpWorkerData;
const post = (m: ToMain, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
// The relay's logger for this thread already carries component: rtmp.
const log = workerLogger(level);
/** Sessions waiting for the relay's decision (the relay answers every request). */
const waiting = new Map<number, (a: Admission) => void>();

const server = new RtmpServer(options, {
  publish: (id, req) => new Promise<Admission>((resolve) => {
    waiting.set(id, resolve);
    post({ t: 'publish', id, req });
  }),
  media: (id, type, timestamp, body) => {
    // A copy of its own: the payload may share a pooled buffer, which would be cloned whole.
    const ab = new ArrayBuffer(body.length);
    new Uint8Array(ab).set(body);
    post({ t: 'media', id, type, timestamp, body: ab }, [ab]);
  },
  unpublish: (id) => post({ t: 'unpublish', id }),
}, { add: (_protocol, code) => post({ t: 'error', code }) }, log);

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'decision':
      waiting.get(m.id)?.(m.refusal);
      waiting.delete(m.id);
      break;
    case 'close':
      server.closeSession(m.id);
      break;
    case 'fail':
      server.failSession(m.id, m.code);
      break;
    case 'stats':
      post({ t: 'stats', id: m.id, stats: { connections: server.connections, heldBytes: server.heldBytes, acceptErrors: server.acceptErrors } });
      break;
    case 'stop':
      heap.close();
      server.close();
      port.close();
      break;
  }
});

server.listen().then(
  (bound) => post({ t: 'listening', port: bound, tid: ownThreadId() }),
  (err: unknown) => post({ t: 'listen-failed', message: err instanceof Error ? err.message : String(err) }),
);
