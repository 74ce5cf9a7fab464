import { describe, expect, it } from 'vitest';
import { applyService, DEFAULTS, isSafari, isWebKit, mergeConfig, optionsFromQuery, resolveSafeMode } from '../../player/config.js';
import type { PlayerOptions } from '../../player/config.js';

const url = 'ws://localhost:8080/live/demo';

describe('mergeConfig', () => {
  it('fills in every default and keeps the url', () => {
    expect(mergeConfig({ url })).toEqual({ ...DEFAULTS, url });
  });

  it('treats an explicit undefined as "use the default"', () => {
    expect(mergeConfig({ url, targetLatency: undefined }).targetLatency).toBe(DEFAULTS.targetLatency);
  });

  it('overrides only the keys given', () => {
    const c = mergeConfig({ url, targetLatency: 0.3, reconnect: false });
    expect(c).toMatchObject({ targetLatency: 0.3, reconnect: false, maxRate: DEFAULTS.maxRate });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an unknown key', { targetLatancy: 0.2 }, /"targetLatancy" is not a known option/],
    ['a non-ws url', { url: 'http://x/live/a' }, /"url" must be a ws:\/\/ or wss:\/\/ URL/],
    ['a list with a non-ws url', { url: ['ws://a/live/x', 'ftp://b'] }, /"url" must be a ws:\/\/ or wss:\/\/ URL, got "ftp:\/\/b"/],
    ['an empty url list', { url: [] }, /"url" must not be an empty list/],
    ['a string where a number belongs', { targetLatency: '0.2' }, /"targetLatency" must be a number/],
    ['NaN', { maxRate: NaN }, /"maxRate" must be a number/],
    ['a negative target', { targetLatency: -1 }, /"targetLatency" must be >= 0/],
    ['a zero rate step', { rateStep: 0 }, /"rateStep" must be > 0/],
    ['an unknown policy', { policy: 'turbo' }, /"policy" must be one of nowcast, none, seek, mpegts/],
    ['an unknown safe mode', { safeMode: 'yes' }, /"safeMode" must be one of/],
    ['a ceiling below the minimum', { minLatency: 1, maxLatency: 0.5 }, /"maxLatency" must be >= minLatency/],
    ['a low-buffer mark above the buffer floor', { lowBuffer: 0.5 }, /"lowBuffer" must be <= minBuffer/],
    ['a non-boolean pinned', { pinned: 'yes' }, /"pinned" must be a boolean/],
    ['a minimum rate above 1', { minRate: 1.1 }, /"minRate" must be <= 1/],
    ['a maximum rate below 1', { maxRate: 0.9 }, /"maxRate" must be >= 1/],
    ['an exit band wider than the enter band', { deadbandExit: 0.5 }, /"deadbandExit" must be <= deadbandEnter/],
    ['a reconnect cap below the base', { reconnectMaxMs: 100 }, /"reconnectMaxMs" must be >= reconnectBaseMs/],
    ['an infinite back buffer', { backBufferSeconds: Infinity }, /"backBufferSeconds" must be finite/],
    ['a number where a boolean belongs', { reconnect: 1 }, /"reconnect" must be a boolean/],
    ['a string for worker', { worker: 'no' }, /"worker" must be a boolean/],
  ])('throws a TypeError naming the key for %s', (_name, extra, message) => {
    const options = { url, ...extra } as PlayerOptions;
    expect(() => mergeConfig(options)).toThrow(TypeError);
    expect(() => mergeConfig(options)).toThrow(message);
  });

  it('allows unlimited reconnect attempts', () => {
    expect(mergeConfig({ url, maxReconnectAttempts: Infinity }).maxReconnectAttempts).toBe(Infinity);
  });
});

describe('applyService', () => {
  const service = { targetMs: 300, minMs: 150, maxMs: 3000, minRate: 0.9, maxRate: 1.25, pinned: true };

  it('takes the server-announced service over the defaults', () => {
    expect(applyService({ url }, service)).toMatchObject({ targetLatency: 0.3, minLatency: 0.15, maxLatency: 3, minRate: 0.9, maxRate: 1.25, pinned: true });
  });

  it('lets page options override the service', () => {
    const c = applyService({ url, targetLatency: 0.5, pinned: false, maxRate: 1.1 }, service);
    expect(c).toMatchObject({ targetLatency: 0.5, pinned: false, maxRate: 1.1, minLatency: 0.15, maxLatency: 3 });
  });

  it('widens the service bounds to a page target outside them', () => {
    expect(applyService({ url, targetLatency: 0.1 }, service)).toMatchObject({ targetLatency: 0.1, minLatency: 0.1 });
    expect(applyService({ url, targetLatency: 5 }, service)).toMatchObject({ targetLatency: 5, maxLatency: 5 });
  });

  it('ignores malformed service fields and keeps rates on the right side of 1', () => {
    const c = applyService({ url }, { targetMs: 'x', minMs: -1, maxMs: NaN, minRate: 1.2, maxRate: 0.8, pinned: 1 } as never);
    expect(c).toMatchObject({ targetLatency: DEFAULTS.targetLatency, minLatency: DEFAULTS.minLatency, maxLatency: DEFAULTS.maxLatency, minRate: 1, maxRate: 1, pinned: false });
    expect(applyService({ url }, undefined)).toEqual(mergeConfig({ url }));
  });
});

describe('watch page query', () => {
  it('maps the URL contract to options', () => {
    const o = optionsFromQuery(new URLSearchParams('policy=mpegts&target=250&pinned=1&debug&max=3000&maxRate=1.25&safari=seek'));
    expect(o).toMatchObject({ policy: 'mpegts', targetLatency: 0.25, pinned: true, debug: true, maxLatency: 3, maxRate: 1.25, safeMode: 'seek' });
    expect(mergeConfig({ url, ...o }).policy).toBe('mpegts');
  });

  it('leaves unset parameters to the service and rejects bad numbers', () => {
    const o = optionsFromQuery(new URLSearchParams(''));
    expect(applyService({ url, ...o }, { targetMs: 400, minMs: 100, maxMs: 2000, minRate: 0.95, maxRate: 1.15, pinned: false }).targetLatency).toBe(0.4);
    expect(() => optionsFromQuery(new URLSearchParams('target=soon'))).toThrow(/target=soon is not a number/);
    expect(optionsFromQuery(new URLSearchParams('pinned=0')).pinned).toBe(false);
  });

  it('takes the MediaSource and the transport from the query, and refuses values it does not know', () => {
    expect(optionsFromQuery(new URLSearchParams('mse=managed&transport=hls'))).toMatchObject({ mediaSource: 'managed', transport: 'hls' });
    expect(mergeConfig({ url: 'ws://x' })).toMatchObject({ mediaSource: 'auto', transport: 'auto' });
    expect(() => mergeConfig({ url: 'ws://x', ...optionsFromQuery(new URLSearchParams('mse=magic')) })).toThrow(/mediaSource/);
    expect(() => mergeConfig({ url: 'ws://x', ...optionsFromQuery(new URLSearchParams('transport=carrier-pigeon')) })).toThrow(/transport/);
  });

  it('runs the engine in a worker unless the query says worker=0', () => {
    expect(DEFAULTS.worker).toBe(true);
    expect(optionsFromQuery(new URLSearchParams('')).worker).toBeUndefined();
    expect(optionsFromQuery(new URLSearchParams('worker=0')).worker).toBe(false);
    expect(optionsFromQuery(new URLSearchParams('worker=1')).worker).toBe(true);
  });
});

describe('WebKit detection', () => {
  it.each([
    ['Safari 17 on macOS', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15', true, true],
    ['Safari on iPhone', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1', true, true],
    ['Chrome on iOS (WebKit and AVFoundation underneath, whatever it reports)', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/119.0 Mobile/15E148 Safari/604.1', true, true],
    ['Safari on iPad in desktop mode', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15', true, true],
    ['Chrome on macOS (Blink)', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', false, false],
    ['WebKitGTK (GStreamer: a rate change is a flushing seek there)', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15', false, true],
    ['WPE WebKit on a set-top box', 'Mozilla/5.0 (Linux; aarch64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15 WPE', false, true],
    ['Edge on Windows (Blink)', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0', false, false],
    ['Chrome on Android (Blink)', 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36', false, false],
    ['Chrome on Linux', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', false, false],
    ['Firefox', 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', false, false],
  ])('%s', (_name, ua, safari, webkit) => {
    expect(isSafari(ua)).toBe(safari);
    expect(isWebKit(ua)).toBe(webkit);
    // Every WebKit engine changes the rate rarely; the others get the full controller.
    expect(resolveSafeMode('auto', ua)).toBe(webkit ? 'coarse' : 'off');
    expect(resolveSafeMode('seek', ua)).toBe('seek');
    expect(resolveSafeMode('off', ua)).toBe('off');
  });
});
