import { describe, expect, it } from 'vitest';
import { loadConfig, defaults } from '../../app/config.js';

describe('configuration', () => {
  it('uses the documented defaults when nothing is set', () => {
    const c = loadConfig({}, {});
    expect(c.http.port).toBe(8080);
    expect(c.rtmp).toEqual({ port: 1935, app: 'live' });
    expect(c.srt.listeners).toEqual([{ port: 9000, stream: 'srt' }]);
    expect(c).toEqual(defaults);
  });

  it('takes env vars over defaults and explicit overrides over env', () => {
    const env = { NOWCAST_HTTP_PORT: '9090', NOWCAST_RELAY_SLOW_VIEWER_BYTES: '200000', NOWCAST_SRT_LISTENERS: '[{"port":9100,"stream":"a"}]' };
    expect(loadConfig({}, env).http.port).toBe(9090);
    expect(loadConfig({}, env).relay.slowViewerBytes).toBe(200000);
    expect(loadConfig({}, env).srt.listeners).toEqual([{ port: 9100, stream: 'a' }]);
    expect(loadConfig({ http: { port: 7000 } }, env).http.port).toBe(7000);
  });

  it.each<[string, Record<string, unknown>, Record<string, string>, RegExp]>([
    ['an unknown key', { htpp: { port: 1 } }, {}, /^config htpp: unknown key/],
    ['a wrong type', { http: { port: '80' } }, {}, /^config http\.port: expected a number/],
    ['a bad port', { http: { port: 70000 } }, {}, /^config http\.port: expected a port/],
    ['a non-numeric env var', {}, { NOWCAST_RTMP_PORT: 'abc' }, /^config rtmp\.port: NOWCAST_RTMP_PORT=abc is not a number/],
    ['a bad SRT stream name', { srt: { listeners: [{ port: 9000, stream: '../x' }] } }, {}, /^config srt\.listeners\[0\]\.stream: invalid stream name/],
    ['contradictory limits', { relay: { slowViewerBytes: 10, resumeBytes: 20 } }, {}, /^config relay\.resumeBytes: must be below/],
  ])('rejects %s with an error naming the key', (_what, overrides, env, message) => {
    expect(() => loadConfig(overrides, env)).toThrow(message);
  });
});
