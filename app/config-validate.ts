// Validation of a merged config: every rule that spans keys or needs more than a type check.
// Each error names the key it is about.
import type { Config, LatencyService } from './schema.js';
import { MUXERS } from '../ingest/config.js';
import { ROLES } from '../cluster/config.js';
import { LOG_FORMATS, LOG_LEVELS } from '../util/log.js';
import { isNice, MAX_NICE } from '../util/threads.js';
import { ladderProblem } from '../abr/config.js';
import { MAX_ACK_MS, MIN_ACK_MS } from '../protocol/messages.js';


/** A cap below this (bits/s) would cut an audio-only publisher: a typo, not a policy. */
const MIN_PUBLISH_BITRATE = 100_000;
const isLoopbackHost = (h: string): boolean => /^(127\.|::1$|localhost$)/.test(h);

export class ConfigError extends Error {
  /** `source`: where the bad value came from when that is not obvious (the config file's path). */
  constructor(readonly key: string, message: string, readonly source?: string) {
    super(`config ${key}: ${message}${source ? ` (in ${source})` : ''}`);
    this.name = 'ConfigError';
  }
}

const port = (key: string, v: number, allowZero = false): void => {
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > 65535) throw new ConfigError(key, `expected a port, got ${v}`);
};
const positive = (key: string, v: number): void => {
  if (!Number.isFinite(v) || v <= 0) throw new ConfigError(key, `expected a positive number, got ${v}`);
};

/** abr.*: each ladder's renditions (abr/config.ts says what each must be). */
function validateAbr(c: Config): void {
  if (typeof c.abr.enabled !== 'boolean') throw new ConfigError('abr.enabled', 'expected a boolean');
  const ladder = (key: string, l: unknown): void => {
    const p = ladderProblem(l);
    if (p) throw new ConfigError(key + p.at, p.message);
  };
  ladder('abr.ladder', c.abr.ladder);
  if (!Array.isArray(c.abr.streams)) throw new ConfigError('abr.streams', 'expected an array of {stream, enabled?, ladder?}');
  c.abr.streams.forEach((s, i) => {
    if (typeof s?.stream !== 'string') throw new ConfigError(`abr.streams[${i}].stream`, 'expected a stream name');
    if (s.enabled !== undefined && typeof s.enabled !== 'boolean') throw new ConfigError(`abr.streams[${i}].enabled`, 'expected a boolean');
    if (s.ladder !== undefined) ladder(`abr.streams[${i}].ladder`, s.ladder);
  });
}

export function validate(c: Config): Config {
  port('http.port', c.http.port, true);
  port('rtmp.port', c.rtmp.port, true);
  port('rtmp.tlsPort', c.rtmp.tlsPort, true);
  for (const k of ['handshakeTimeoutMs', 'idleTimeoutMs', 'maxConnections', 'maxConnectionsPerIp', 'preAdmitBytes', 'maxChunkSize', 'maxCommandBytes', 'maxMessageBytes', 'maxHeaderChangesPer10s'] as const) {
    positive(`rtmp.${k}`, c.rtmp[k]);
  }
  if (!Number.isFinite(c.rtmp.reconnectGraceMs) || c.rtmp.reconnectGraceMs < 0) throw new ConfigError('rtmp.reconnectGraceMs', `expected a number ≥ 0, got ${c.rtmp.reconnectGraceMs}`);
  if (c.rtmp.maxChunkSize < 128) throw new ConfigError('rtmp.maxChunkSize', 'must be at least 128, RTMP\'s initial chunk size');
  if (c.rtmp.maxCommandBytes > c.rtmp.preAdmitBytes) throw new ConfigError('rtmp.maxCommandBytes', 'must not exceed rtmp.preAdmitBytes');
  if (c.rtmp.maxMessageBytes > c.remux.maxBoxBytes) throw new ConfigError('rtmp.maxMessageBytes', 'must not exceed remux.maxBoxBytes');
  port('ops.port', c.ops.port, true);
  if (!c.ops.host) throw new ConfigError('ops.host', 'expected an address such as 127.0.0.1');
  if (c.ops.token && c.ops.token.length < 16) throw new ConfigError('ops.token', 'use at least 16 characters');
  if (!isNice(c.ops.nice)) throw new ConfigError('ops.nice', `expected an integer from 0 to ${MAX_NICE}, got ${JSON.stringify(c.ops.nice)}`);
  if (!c.ops.token && !isLoopbackHost(c.ops.host)) throw new ConfigError('ops.token', `required when ops.host (${c.ops.host}) is not a loopback address: /metrics and /api/streams list every stream`);
  c.security.trustedProxies.forEach((a, i) => {
    if (typeof a !== 'string' || !a) throw new ConfigError(`security.trustedProxies[${i}]`, 'expected an address such as "127.0.0.1"');
  });
  const passphrase = (key: string, v: string | undefined): void => {
    // libsrt's own rule; FFmpeg would only say "Input/output error".
    if (v && (typeof v !== 'string' || v.length < 10 || v.length > 79)) throw new ConfigError(key, 'an SRT passphrase has 10 to 79 characters');
  };
  passphrase('srt.passphrase', c.srt.passphrase);
  c.srt.listeners.forEach((l, i) => {
    passphrase(`srt.listeners[${i}].passphrase`, l.passphrase);
    if (l.latencyMs !== undefined) positive(`srt.listeners[${i}].latencyMs`, l.latencyMs);
    port(`srt.listeners[${i}].port`, l.port);
    if (typeof l.stream !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(l.stream)) {
      throw new ConfigError(`srt.listeners[${i}].stream`, `invalid stream name ${JSON.stringify(l.stream)}`);
    }
  });
  for (const k of ['latencyMs', 'idleTimeoutMs', 'maxCallers', 'maxCallersPerIp'] as const) positive(`srt.${k}`, c.srt[k]);
  if (c.srt.maxCallers > 1024) throw new ConfigError('srt.maxCallers', 'at most 1024 (the gateway\'s own bound)');
  const srtPorts = new Set<number>();
  c.srt.listeners.forEach((l, i) => {
    if (srtPorts.has(l.port)) throw new ConfigError(`srt.listeners[${i}].port`, `port ${l.port} is listed twice: one listener takes every caller on its port`);
    srtPorts.add(l.port);
  });
  for (const k of ['fragmentUs', 'analyzeDurationUs', 'probeSizeBytes', 'restartDelayMs', 'maxRestartDelayMs', 'maxBoxBytes', 'maxInitBytes'] as const) {
    positive(`remux.${k}`, c.remux[k]);
  }
  if (!Number.isFinite(c.remux.chunkWaitMs) || c.remux.chunkWaitMs < 0) throw new ConfigError('remux.chunkWaitMs', `expected a number ≥ 0, got ${c.remux.chunkWaitMs}`);
  if (!MUXERS.includes(c.remux.muxer)) throw new ConfigError('remux.muxer', `expected one of ${MUXERS.join(', ')}, got ${JSON.stringify(c.remux.muxer)}`);
  for (const k of ['maxBackpressureBytes', 'slowViewerBytes', 'resumeBytes', 'maxInFlightMs', 'maxGopCacheBytes', 'sweepIntervalMs', 'maxViewerMessageBytes', 'idleTimeoutS'] as const) {
    positive(`relay.${k}`, c.relay[k]);
  }
  for (const [key, v] of [['relay.ackIntervalMs', c.relay.ackIntervalMs], ['abr.ackIntervalMs', c.abr.ackIntervalMs]] as const) {
    if (!Number.isInteger(v) || v < MIN_ACK_MS || v > MAX_ACK_MS) throw new ConfigError(key, `expected an integer from ${MIN_ACK_MS} to ${MAX_ACK_MS} ms, got ${JSON.stringify(v)}`);
  }
  if (!isNice(c.relay.helperThreadsNice)) {
    throw new ConfigError('relay.helperThreadsNice', `expected an integer from 0 to ${MAX_NICE}, got ${JSON.stringify(c.relay.helperThreadsNice)}`);
  }
  if (c.relay.slowViewerBytes >= c.relay.maxBackpressureBytes) {
    throw new ConfigError('relay.slowViewerBytes', 'must be below relay.maxBackpressureBytes');
  }
  if (typeof c.hls.enabled !== 'boolean') throw new ConfigError('hls.enabled', 'expected a boolean');
  if (!Number.isFinite(c.hls.partTargetMs) || c.hls.partTargetMs < 10 || c.hls.partTargetMs > 5_000) {
    throw new ConfigError('hls.partTargetMs', `expected 10 to 5000 ms, got ${c.hls.partTargetMs}`);
  }
  // RFC 8216 §6.2.2: a live playlist spans at least three target durations.
  if (!Number.isInteger(c.hls.windowSegments) || c.hls.windowSegments < 3) throw new ConfigError('hls.windowSegments', `expected a whole number ≥ 3, got ${c.hls.windowSegments}`);
  positive('hls.maxStreamBytes', c.hls.maxStreamBytes);
  if (c.hls.maxStreamBytes < 2 * c.remux.maxBoxBytes) {
    // A segment without a keyframe is cut at half of it, and must still hold the largest chunk.
    throw new ConfigError('hls.maxStreamBytes', `must be at least twice remux.maxBoxBytes (${2 * c.remux.maxBoxBytes})`);
  }
  if (!Number.isInteger(c.hls.maxWaiters) || c.hls.maxWaiters < 1) throw new ConfigError('hls.maxWaiters', `expected a whole number ≥ 1, got ${c.hls.maxWaiters}`);
  validateAbr(c);
  const services: Array<[string, Partial<LatencyService>]> = [['latency.default', c.latency.default],
    ...c.latency.streams.map((o, i): [string, Partial<LatencyService>] => [`latency.streams[${i}]`, o])];
  for (const [key, l] of services) {
    for (const k of ['targetMs', 'minMs', 'maxMs', 'minRate', 'maxRate'] as const) {
      if (l[k] !== undefined) positive(`${key}.${k}`, l[k]);
    }
    if (l.pinned !== undefined && typeof l.pinned !== 'boolean') throw new ConfigError(`${key}.pinned`, 'expected a boolean');
  }
  for (const [i, o] of c.latency.streams.entries()) {
    if (typeof o.stream !== 'string') throw new ConfigError(`latency.streams[${i}].stream`, 'expected a stream name');
  }
  for (const k of ['maxStreams', 'maxViewersPerStream', 'maxViewersPerIp', 'upgradesPerSecondPerIp', 'maxWaitingViewers', 'maxWaitingViewersPerIp', 'maxWaitMs'] as const) {
    positive(`limits.${k}`, c.limits[k]);
  }
  const bitrate = c.limits.maxPublishBitrate;
  if (typeof bitrate !== 'number' || !Number.isFinite(bitrate) || (bitrate !== 0 && bitrate < MIN_PUBLISH_BITRATE)) {
    throw new ConfigError('limits.maxPublishBitrate', `expected 0 (no cap) or at least ${MIN_PUBLISH_BITRATE} bits/s, got ${JSON.stringify(bitrate)}`);
  }
  c.security.publishKeys.forEach((k, i) => {
    if (typeof k?.stream !== 'string' || typeof k.key !== 'string' || !k.key) {
      throw new ConfigError(`security.publishKeys[${i}]`, 'expected {"stream": NAME, "key": KEY}');
    }
  });
  if ((c.security.requireViewerToken || c.security.requirePublishAuth) && !c.security.secret && !c.security.publishKeys.length) {
    throw new ConfigError('security.secret', 'required when tokens are required');
  }
  if (Boolean(c.tls.cert) !== Boolean(c.tls.key)) throw new ConfigError(c.tls.cert ? 'tls.key' : 'tls.cert', 'set both tls.cert and tls.key');
  if (c.rtmp.tlsPort && !c.tls.cert) throw new ConfigError('rtmp.tlsPort', 'RTMPS needs tls.cert and tls.key');
  if (c.relay.maxGopCacheBytes >= c.relay.maxBackpressureBytes) {
    // A joiner is sent the whole cached GOP at once; past the hard cap it would be disconnected.
    throw new ConfigError('relay.maxGopCacheBytes', 'must be below relay.maxBackpressureBytes');
  }
  if (c.remux.maxBoxBytes > c.relay.maxBackpressureBytes - c.relay.slowViewerBytes) {
    // The largest chunk must reach a viewer sitting at the skip threshold without hitting the cap.
    throw new ConfigError('remux.maxBoxBytes', 'must not exceed relay.maxBackpressureBytes - relay.slowViewerBytes (the largest chunk must fit a viewer\'s send cap)');
  }
  if (c.relay.resumeBytes >= c.relay.slowViewerBytes) {
    throw new ConfigError('relay.resumeBytes', 'must be below relay.slowViewerBytes');
  }
  if (!LOG_LEVELS.includes(c.log.level)) throw new ConfigError('log.level', `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(c.log.level)}`);
  if (!LOG_FORMATS.includes(c.log.format)) throw new ConfigError('log.format', `expected one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(c.log.format)}`);
  if (!Number.isInteger(c.metrics.maxStreamLabels) || c.metrics.maxStreamLabels < 0) {
    throw new ConfigError('metrics.maxStreamLabels', `expected a whole number ≥ 0, got ${c.metrics.maxStreamLabels}`);
  }
  if (!ROLES.includes(c.cluster.role)) throw new ConfigError('cluster.role', `expected one of ${ROLES.join(', ')}, got ${JSON.stringify(c.cluster.role)}`);
  if (c.cluster.role !== 'all-in-one' && !c.cluster.natsServers.length) throw new ConfigError('cluster.natsServers', `role ${c.cluster.role} needs at least one NATS server`);
  c.cluster.natsServers.forEach((u, i) => {
    if (typeof u !== 'string' || !/^(nats|tls|wss?):\/\/[^\s]+$/.test(u)) throw new ConfigError(`cluster.natsServers[${i}]`, `expected a nats:// URL, got ${JSON.stringify(u)}`);
  });
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(c.cluster.prefix)) throw new ConfigError('cluster.prefix', 'expected 1–32 letters, digits, _ or -');
  for (const k of ['lingerMs', 'snapshotTimeoutMs', 'retryMs'] as const) positive(`cluster.${k}`, c.cluster[k]);
  if (!Number.isFinite(c.shutdown.drainMs) || c.shutdown.drainMs < 0) {
    throw new ConfigError('shutdown.drainMs', `expected a number of ms ≥ 0, got ${c.shutdown.drainMs}`);
  }
  return c;
}

