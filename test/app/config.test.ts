// The configuration in process: defaults, environment, files, --set and the checks that name the
// key. The nowcast command in a child process: test/integration/app/cli.test.ts.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, defaults, envName, leafKeys, setOverrides } from '../../app/config.js';

const dir = mkdtempSync(join(tmpdir(), 'nowcast-config-'));
/** Writes a config file and returns its path. */
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('configuration', () => {
  it('uses the documented defaults when nothing is set', () => {
    const c = loadConfig({}, {});
    expect(c.http.port).toBe(8080);
    expect(c.rtmp).toMatchObject({ port: 1935, app: 'live', tlsPort: 0, handshakeTimeoutMs: 5000, maxConnections: 256 });
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
    ['one SRT port listed twice', { srt: { listeners: [{ port: 9000, stream: 'a' }, { port: 9000, stream: 'b' }] } }, {}, /^config srt\.listeners\[1\]\.port: port 9000 is listed twice/],
    ['an SRT caller limit of 0', { srt: { maxCallersPerIp: 0 } }, {}, /^config srt\.maxCallersPerIp: expected a positive number/],
    ['a port\'s SRT latency of 0', { srt: { listeners: [{ port: 9000, stream: 'a', latencyMs: 0 }] } }, {}, /^config srt\.listeners\[0\]\.latencyMs: expected a positive number/],
    ['a publish bitrate cap under 100 kbit/s', {}, { NOWCAST_LIMITS_MAX_PUBLISH_BITRATE: '5000' }, /^config limits\.maxPublishBitrate: expected 0 \(no cap\) or at least 100000 bits\/s, got 5000/],
    ['contradictory limits', { relay: { slowViewerBytes: 10, resumeBytes: 20 } }, {}, /^config relay\.resumeBytes: must be below/],
    ['an unknown cluster role', { cluster: { role: 'origin' } }, {}, /^config cluster\.role: expected one of all-in-one, ingest-only, edge-only, got "origin"/],
    ['an edge without NATS servers', { cluster: { role: 'edge-only', natsServers: [] } }, {}, /^config cluster\.natsServers: role edge-only needs at least one NATS server/],
    ['a NATS server that is not a URL', {}, { NOWCAST_CLUSTER_NATS_SERVERS: '["127.0.0.1:4222"]' }, /^config cluster\.natsServers\[0\]: expected a nats:\/\/ URL/],
    ['a helper-thread nice value out of range', { relay: { helperThreadsNice: 20 } }, {}, /^config relay\.helperThreadsNice: expected an integer from 0 to 19, got 20/],
    ['an ack interval under 50 ms', { relay: { ackIntervalMs: 10 } }, {}, /^config relay\.ackIntervalMs: expected an integer from 50 to 2000 ms, got 10/],
    ['a ladder ack interval that is not whole', {}, { NOWCAST_ABR_ACK_INTERVAL_MS: '150.5' }, /^config abr\.ackIntervalMs: expected an integer from 50 to 2000 ms, got 150.5/],
    ['an operations-thread nice value out of range', { ops: { nice: -1 } }, {}, /^config ops\.nice: expected an integer from 0 to 19, got -1/],
    ['a subject prefix with a dot', { cluster: { prefix: 'a.b' } }, {}, /^config cluster\.prefix: expected 1–32 letters/],
    ['an LL-HLS part target under 10 ms', { hls: { partTargetMs: 5 } }, {}, /^config hls\.partTargetMs: expected 10 to 5000 ms, got 5/],
    ['an LL-HLS window under three segments', { hls: { windowSegments: 2 } }, {}, /^config hls\.windowSegments: expected a whole number ≥ 3, got 2/],
    ['no room for a blocked LL-HLS request', {}, { NOWCAST_HLS_MAX_WAITERS: '0' }, /^config hls\.maxWaiters: expected a whole number ≥ 1, got 0/],
    ['an LL-HLS window smaller than two of the largest chunks', { hls: { maxStreamBytes: 1024 } }, {}, /^config hls\.maxStreamBytes: must be at least twice remux\.maxBoxBytes/],
  ])('rejects %s with an error naming the key', (_what, overrides, env, message) => {
    expect(() => loadConfig(overrides, env)).toThrow(message);
  });

  it('layers defaults < file < env < flags', () => {
    const path = file('layers.json', { http: { port: 7001 }, rtmp: { port: 7002, app: 'studio' }, relay: { idleTimeoutS: 30 }, shutdown: { drainMs: 1000 } });
    const env = { NOWCAST_RTMP_PORT: '7003', NOWCAST_SHUTDOWN_DRAIN_MS: '2000' };
    const c = loadConfig({ shutdown: { drainMs: 3000 } }, env, path);
    expect(c.http.port).toBe(7001); // file over default
    expect(c.rtmp).toEqual({ ...defaults.rtmp, port: 7003, app: 'studio' }); // env over file, file kept where env is silent
    expect(c.relay.idleTimeoutS).toBe(30);
    expect(c.relay.slowViewerBytes).toBe(defaults.relay.slowViewerBytes);
    expect(c.shutdown.drainMs).toBe(3000); // flags over env over file
  });

  it('reads the file named by NOWCAST_CONFIG when no --config is given', () => {
    const a = file('a.json', { http: { port: 7101 } });
    const b = file('b.json', { http: { port: 7102 } });
    expect(loadConfig({}, { NOWCAST_CONFIG: a }).http.port).toBe(7101);
    expect(loadConfig({}, { NOWCAST_CONFIG: a }, b).http.port).toBe(7102);
  });

  it.each<[string, unknown, RegExp]>([
    ['a wrong type', { relay: { slowViewerBytes: 'big' } }, /^config relay\.slowViewerBytes: expected a number, got "big" \(in .*bad-0\.json\)$/],
    ['an unknown key', { relay: { slowViewer: 1 } }, /^config relay\.slowViewer: unknown key \(in .*bad-1\.json\)$/],
    ['a bad value', { log: { level: 'loud' } }, /^config log\.level: expected one of .* \(in .*bad-2\.json\)$/],
    ['a contradiction', { relay: { resumeBytes: 10_000_000 } }, /^config relay\.resumeBytes: must be below relay\.slowViewerBytes \(in .*bad-3\.json\)$/],
    ['invalid JSON', '{"http": {"port": 80,}}', /^config file: .*bad-4\.json is not valid JSON/],
    ['a non-object', '[1, 2]', /^config file: .*bad-5\.json must hold a JSON object/],
  ])('rejects a config file with %s, naming the key and the file', (_what, content, message) => {
    const i = ['a wrong type', 'an unknown key', 'a bad value', 'a contradiction', 'invalid JSON', 'a non-object'].indexOf(_what);
    const path = file(`bad-${i}.json`, content);
    expect(() => loadConfig({}, {}, path)).toThrow(message);
  });

  it('names a missing config file', () => {
    expect(() => loadConfig({}, {}, join(dir, 'nope.json'))).toThrow(/^config file: cannot read .*nope\.json/);
  });

  it('parses --set KEY=VALUE by the type of the key', () => {
    expect(setOverrides(['relay.slowViewerBytes=1048576', 'demo.enabled=true', 'srt.listeners=[]', 'log.level=debug']))
      .toEqual({ relay: { slowViewerBytes: 1048576 }, demo: { enabled: true }, srt: { listeners: [] }, log: { level: 'debug' } });
    expect(() => setOverrides(['relay.nope=1'])).toThrow(/^config relay\.nope: unknown key/);
    expect(() => setOverrides(['http.port=x'])).toThrow(/^config http\.port: --set http\.port=x is not a number/);
  });

  it('has an env var for every key', () => {
    expect(envName('relay.slowViewerBytes')).toBe('NOWCAST_RELAY_SLOW_VIEWER_BYTES');
    expect(envName('latency.default.targetMs')).toBe('NOWCAST_LATENCY_DEFAULT_TARGET_MS');
    for (const [key] of leafKeys()) {
      const env = { [envName(key)]: key === 'log.level' ? 'warn' : key === 'log.format' ? 'json' : '' };
      // An empty value is rejected for numbers and booleans (naming the key), taken for strings.
      try { loadConfig({}, env); } catch (err) { expect(String(err)).toContain(`config ${key}`); }
    }
  });
});

describe('the limits that keep a public server safe', () => {
  it.each([
    ['a chunk larger than a viewer can be sent', { remux: { maxBoxBytes: 4 * 1024 * 1024 } }, 'config remux.maxBoxBytes: must not exceed relay.maxBackpressureBytes - relay.slowViewerBytes'],
    ['an RTMP media message larger than the remux takes', { rtmp: { maxMessageBytes: 3 * 1024 * 1024 } }, 'config rtmp.maxMessageBytes: must not exceed remux.maxBoxBytes'],
    ['a command cap above the pre-admission budget', { rtmp: { maxCommandBytes: 128 * 1024 } }, 'config rtmp.maxCommandBytes: must not exceed rtmp.preAdmitBytes'],
    ['a chunk size cap below RTMP\'s initial 128', { rtmp: { maxChunkSize: 64 } }, 'config rtmp.maxChunkSize: must be at least 128'],
    ['an operations listener off loopback without a token', { ops: { host: '0.0.0.0' } }, 'config ops.token: required when ops.host (0.0.0.0) is not a loopback address'],
    ['a short operations token', { ops: { token: 'short' } }, 'config ops.token: use at least 16 characters'],
    ['no waiting-viewer cap', { limits: { maxWaitingViewers: 0 } }, 'config limits.maxWaitingViewers: expected a positive number'],
  ])('refuses %s, naming the key', (_what, patch, message) => {
    expect(() => loadConfig(patch, {})).toThrow(message);
  });

  it('keeps the default largest chunk within a viewer\'s send cap', () => {
    expect(defaults.remux.maxBoxBytes).toBeLessThanOrEqual(defaults.relay.maxBackpressureBytes - defaults.relay.slowViewerBytes);
    expect(defaults.rtmp.maxMessageBytes).toBeLessThanOrEqual(defaults.remux.maxBoxBytes);
  });
});
