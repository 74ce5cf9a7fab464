// The MSE worker told the stream's URL by the /watch page before the player starts it
// (`connect`, ops/pages.ts): it opens the socket at once, and the engine takes that socket over.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WorkerCommand, WorkerEvent } from '../../player/media-path.js';
import { ENGINE_OPTIONS, FakeSocket, stubBrowser } from './fakes.js';

let posted: WorkerEvent[][];
const send = (c: WorkerCommand | { type: 'connect'; url: unknown }): void =>
  (globalThis as unknown as { onmessage(e: { data: unknown }): void }).onmessage({ data: c });
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('the MSE worker with a socket asked for before the start', () => {
  beforeEach(async () => {
    posted = [];
    stubBrowser();
    vi.stubGlobal('postMessage', (events: WorkerEvent[]) => posted.push(events));
    vi.stubGlobal('close', vi.fn());
    vi.stubGlobal('onmessage', null);
    vi.resetModules();
    await import('../../player/worker.js');
  });
  afterEach(() => vi.unstubAllGlobals());

  it('opens it at once, and the started engine takes it over and hears what it queued first', async () => {
    send({ type: 'connect', url: ENGINE_OPTIONS.urls[0]! });
    expect(FakeSocket.all).toHaveLength(1);
    const ws = FakeSocket.all[0]!;
    expect(ws.url).toBe(ENGINE_OPTIONS.urls[0]);
    expect(ws.binaryType).toBe('arraybuffer');
    ws.open();
    ws.onmessage?.({ data: '{"type":"skip","chunks":1,"bytes":2}' });
    send({ type: 'start', options: ENGINE_OPTIONS });
    await settle();
    expect(FakeSocket.all).toHaveLength(1); // no second socket
    const events = posted.flat().filter((e) => e.type !== 'attach');
    expect(events.map((e) => e.type)).toEqual(['open', 'message']);
    send({ type: 'destroy' });
    expect(ws.closes).toBe(1);
  });

  it('closes it when the start names another URL, and the engine opens its own', () => {
    send({ type: 'connect', url: 'ws://relay/live/other' });
    send({ type: 'start', options: ENGINE_OPTIONS });
    expect(FakeSocket.all.map((s) => [s.url, s.closes])).toEqual([['ws://relay/live/other', 1], [ENGINE_OPTIONS.urls[0], 0]]);
    send({ type: 'destroy' });
  });

  it('ignores a connect that is not a ws(s) URL, a second connect, and one after the start', () => {
    send({ type: 'connect', url: 'http://relay/live/x' });
    send({ type: 'connect', url: 42 });
    expect(FakeSocket.all).toHaveLength(0);
    send({ type: 'connect', url: 'ws://relay/live/x' });
    send({ type: 'connect', url: 'ws://relay/live/y' });
    expect(FakeSocket.all).toHaveLength(1);
    send({ type: 'start', options: ENGINE_OPTIONS });
    send({ type: 'connect', url: 'ws://relay/live/z' });
    expect(FakeSocket.all).toHaveLength(1);
    send({ type: 'destroy' });
  });

  it('closes a socket no start came for when the page destroys the worker', () => {
    send({ type: 'connect', url: 'ws://relay/live/x' });
    send({ type: 'destroy' });
    expect(FakeSocket.all[0]!.closes).toBe(1);
  });

  it('closes a socket no player takes past its bounds, and the engine then connects anew', async () => {
    send({ type: 'connect', url: ENGINE_OPTIONS.urls[0]! });
    const ws = FakeSocket.all[0]!;
    ws.open();
    for (let i = 0; i < 1500 && ws.onmessage; i++) ws.onmessage({ data: new ArrayBuffer(8) });
    expect(ws.closes).toBe(1);
    ws.drop(1000);
    send({ type: 'start', options: ENGINE_OPTIONS });
    await settle();
    const events = posted.flat().filter((e) => e.type !== 'attach');
    expect(events.filter((e) => e.type === 'frame')).toHaveLength(999);
    expect(events.at(-1)).toMatchObject({ type: 'close', info: { code: 1000, retry: { attempt: 1 } } });
    send({ type: 'destroy' });
  });
});
