// Starts a real Nowcast (relay + RTMP + SRT, real FFmpeg) on free ports for a test file.
import { loadConfig, type Config } from '../../app/config.js';
import { createRootLogger } from '../../util/log.js';
import { Nowcast } from '../../app/nowcast.js';
import { freeTcpPort, freeUdpPort } from './ports.js';

export interface Running {
  app: Nowcast;
  cfg: Config;
  http: string;
  /** The operations listener: /metrics, /api/streams, /dashboard. */
  ops: string;
  ws: (name: string) => string;
  rtmp: (name: string) => string;
  srt: (port: number) => string;
  srtPorts: number[];
}

type Overrides = { [K in keyof Config]?: Partial<Config[K]> };

/** `srtStreams`: one SRT port per entry, for the stream a caller without a streamid publishes (and, given, the port's own latency). */
export async function startNowcast(o: Overrides & { srtStreams?: Array<string | { stream: string; latencyMs: number }> } = {}): Promise<Running> {
  const srtPorts: number[] = [];
  for (let i = 0; i < (o.srtStreams?.length ?? 0); i++) srtPorts.push(await freeUdpPort());
  const { srtStreams, ...rest } = o;
  const cfg = loadConfig({
    ...rest,
    host: '127.0.0.1',
    http: { port: rest.http?.port ?? 0 },
    // A free port, so test files (and a running `npm start`) never share 9997.
    ops: { ...rest.ops, port: rest.ops?.port ?? 0 },
    rtmp: { app: 'live', ...rest.rtmp, port: rest.rtmp?.port === 0 ? 0 : await freeTcpPort() },
    srt: { latencyMs: 40, ...rest.srt, listeners: (srtStreams ?? []).map((s, i) => ({ port: srtPorts[i]!, ...(typeof s === 'string' ? { stream: s } : s) })) },
  }, {});
  const log = createRootLogger(process.env.NOWCAST_TEST_LOG ?? 'silent');
  const app = await new Nowcast(cfg, log).start();
  return {
    app,
    cfg,
    http: `http://127.0.0.1:${app.httpPort}`,
    ops: `http://127.0.0.1:${app.opsPort}`,
    ws: (name) => `ws://127.0.0.1:${app.httpPort}/live/${name}`,
    rtmp: (name) => `rtmp://127.0.0.1:${app.rtmpPort}/live/${name}`,
    srt: (port) => `srt://127.0.0.1:${port}?mode=caller&latency=40000&pkt_size=1316`,
    srtPorts,
  };
}
