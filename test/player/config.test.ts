import { describe, expect, it } from 'vitest';
import { DEFAULTS, mergeConfig } from '../../player/config.js';
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
    ['a string where a number belongs', { targetLatency: '0.2' }, /"targetLatency" must be a number/],
    ['NaN', { maxRate: NaN }, /"maxRate" must be a number/],
    ['a negative target', { targetLatency: -1 }, /"targetLatency" must be >= 0/],
    ['a zero rate step', { rateStep: 0 }, /"rateStep" must be > 0/],
    ['a minimum rate above 1', { minRate: 1.1 }, /"minRate" must be <= 1/],
    ['a maximum rate below 1', { maxRate: 0.9 }, /"maxRate" must be >= 1/],
    ['an exit band wider than the enter band', { deadbandExit: 0.5 }, /"deadbandExit" must be <= deadbandEnter/],
    ['a reconnect cap below the base', { reconnectMaxMs: 100 }, /"reconnectMaxMs" must be >= reconnectBaseMs/],
    ['an infinite back buffer', { backBufferSeconds: Infinity }, /"backBufferSeconds" must be finite/],
    ['a number where a boolean belongs', { reconnect: 1 }, /"reconnect" must be a boolean/],
  ])('throws a TypeError naming the key for %s', (_name, extra, message) => {
    const options = { url, ...extra } as PlayerOptions;
    expect(() => mergeConfig(options)).toThrow(TypeError);
    expect(() => mergeConfig(options)).toThrow(message);
  });

  it('allows unlimited reconnect attempts', () => {
    expect(mergeConfig({ url, maxReconnectAttempts: Infinity }).maxReconnectAttempts).toBe(Infinity);
  });
});
