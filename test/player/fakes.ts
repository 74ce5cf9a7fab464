// Just enough of the browser for the player's media side to run in Node: a MediaSource that
// opens when told, a WebSocket driven by the test, a <video> that counts its releases.
import { vi } from 'vitest';

/** A SourceBuffer whose appends complete on a later microtask, like the real one. */
export class FakeSourceBuffer extends EventTarget {
  updating = false;
  timestampOffset = 0;
  appends = 0;
  get buffered(): TimeRanges {
    return { length: 0, start: () => 0, end: () => 0 } as unknown as TimeRanges;
  }
  appendBuffer(): void {
    this.appends += 1;
    this.updating = true;
    queueMicrotask(() => {
      this.updating = false;
      this.dispatchEvent(new Event('updateend'));
    });
  }
  remove(): void {}
  abort(): void {}
}

export class FakeMediaSource extends EventTarget {
  static all: FakeMediaSource[] = [];
  static canConstructInDedicatedWorker = false;
  /** What a worker's MediaSource hands the page. */
  readonly handle = { fake: 'handle' };
  readyState = 'closed';
  duration = NaN;
  constructor() {
    super();
    FakeMediaSource.all.push(this);
  }
  static isTypeSupported(): boolean {
    return true;
  }
  addSourceBuffer(): FakeSourceBuffer {
    return new FakeSourceBuffer();
  }
  removeSourceBuffer(): void {}
}

/** A browser WebSocket driven by the test. */
export class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  binaryType = 'blob';
  sent: string[] = [];
  closes = 0;
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(s: string): void {
    this.sent.push(s);
  }
  close(): void {
    this.closes += 1;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

/** A <video> that records how often its decoder was released. */
export function fakeVideo(): HTMLVideoElement & { load: ReturnType<typeof vi.fn> } {
  return {
    currentTime: 0,
    src: '',
    srcObject: null,
    removeAttribute: vi.fn(),
    load: vi.fn(),
  } as unknown as HTMLVideoElement & { load: ReturnType<typeof vi.fn> };
}

export const ENGINE_OPTIONS = {
  urls: ['ws://relay/live/x'],
  reconnect: true,
  reconnectBaseMs: 250,
  reconnectMaxMs: 5000,
  maxReconnectAttempts: Infinity,
};

/** Installs the fakes as globals (undo with vi.unstubAllGlobals()). */
export function stubBrowser(): { revoked: string[] } {
  FakeMediaSource.all = [];
  FakeMediaSource.canConstructInDedicatedWorker = false;
  FakeSocket.all = [];
  const revoked: string[] = [];
  let n = 0;
  vi.stubGlobal('MediaSource', FakeMediaSource);
  vi.stubGlobal('WebSocket', FakeSocket);
  const RealURL = URL;
  vi.stubGlobal(
    'URL',
    class extends RealURL {
      static override createObjectURL(): string {
        return `blob:fake-${++n}`;
      }
      static override revokeObjectURL(u: string): void {
        revoked.push(u);
      }
    },
  );
  return { revoked };
}
