// The MSE worker's entry, run in Node with the worker scope's globals stubbed.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WorkerCommand, WorkerEvent } from '../../player/media-path.js';
import { ENGINE_OPTIONS, FakeMediaSource, FakeSocket, stubBrowser } from './fakes.js';

const posted: WorkerEvent[][] = [];
const close = vi.fn();
const send = (c: WorkerCommand): void => (globalThis as unknown as { onmessage(e: { data: WorkerCommand }): void }).onmessage({ data: c });
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('the MSE worker', () => {
  beforeAll(async () => {
    stubBrowser();
    vi.stubGlobal('postMessage', (events: WorkerEvent[]) => posted.push(events));
    vi.stubGlobal('close', close);
    vi.stubGlobal('onmessage', null);
    await import('../../player/worker.js');
  });
  afterAll(() => vi.unstubAllGlobals());

  it('starts one engine and posts the MediaSource handle to the page', async () => {
    send({ type: 'start', options: ENGINE_OPTIONS });
    send({ type: 'start', options: ENGINE_OPTIONS });
    await settle();
    expect(FakeSocket.all).toHaveLength(1);
    expect(FakeMediaSource.all).toHaveLength(1);
    expect(posted).toEqual([[{ type: 'attach', handle: FakeMediaSource.all[0]!.handle }]]);
    FakeSocket.all[0]!.open();
    await settle();
    expect(posted[1]).toEqual([{ type: 'open' }]);
  });

  it('destroy tears the engine down and closes the worker; a second destroy is harmless', () => {
    const socket = FakeSocket.all[0]!;
    send({ type: 'destroy' });
    send({ type: 'destroy' });
    expect(socket.closes).toBe(1);
    expect(close).toHaveBeenCalled();
    send({ type: 'ping' });
    expect(socket.sent).toEqual([]);
  });
});
