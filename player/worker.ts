// Entry of the MSE worker (bundled into the player as a string, see player/media-path.ts):
// runs the MediaEngine here and posts its events to the page in one batch per task.
import { MediaEngine } from './engine.js';
import type { WorkerCommand, WorkerEvent } from './media-path.js';
import { mediaSourceCtor, type MediaAttachment } from './mse.js';
import { closeEarlySocket, openEarlySocket, type EarlySocket } from './transport.js';

interface WorkerScope {
  postMessage(message: unknown, transfer: Transferable[]): void;
  onmessage: ((e: MessageEvent<WorkerCommand>) => void) | null;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
let engine: MediaEngine | undefined;
let batch: WorkerEvent[] = [];
let transfer: Transferable[] = [];

function flush(): void {
  const events = batch;
  const t = transfer;
  batch = [];
  transfer = [];
  scope.postMessage(events, t);
}

function post(ev: WorkerEvent, t?: Transferable): void {
  if (batch.length === 0) queueMicrotask(flush);
  batch.push(ev);
  if (t) transfer.push(t);
}

const element: MediaAttachment = {
  // Never ManagedMediaSource in a worker: it does not open there (w3c/media-source#329).
  mediaSource: mediaSourceCtor('classic'),
  // The page sets the handle as the <video>'s srcObject; a new MediaSource sends a new one.
  attach(ms) {
    // `handle` exists on a worker's MediaSource only (TypeScript's DOM types omit it).
    const handle = (ms as MediaSource & { readonly handle: MediaSourceHandle }).handle;
    post({ type: 'attach', handle }, handle);
    return () => {};
  },
  currentTime: () => engine?.reportedTime ?? 0,
  release() {},
};

/** The socket the page asked for before the player's start (`connect`), until the engine takes it. */
let early: EarlySocket | undefined;

scope.onmessage = (e) => {
  const c = e.data;
  if (c.type === 'connect') {
    if (!engine && !early && typeof c.url === 'string' && /^wss?:\/\//.test(c.url)) early = openEarlySocket(c.url);
  } else if (c.type === 'start') {
    engine ??= new MediaEngine(c.options, post, element, undefined, early);
    early = undefined;
  } else {
    engine?.command(c);
  }
  // The engine tore itself down: nothing is left for this worker to do (a repeat is harmless).
  if (c.type === 'destroy') {
    closeEarlySocket(early);
    scope.close();
  }
};
