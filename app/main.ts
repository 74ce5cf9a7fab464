// Entry point: parse flags, load config, start, stop on signals.
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from './config.js';
import { createRootLogger } from './log.js';
import { Nowcast } from './nowcast.js';

const USAGE = `Usage: nowcast [--demo] [--http-port N] [--rtmp-port N] [--host ADDR]
  --demo           also publish a synthetic test source as stream "demo"
  --http-port N    HTTP + WebSocket port (default 8080; env NOWCAST_HTTP_PORT)
  --rtmp-port N    RTMP port (default 1935; env NOWCAST_RTMP_PORT)
  --host ADDR      bind address (default 0.0.0.0; env NOWCAST_HOST)
SRT listeners: NOWCAST_SRT_LISTENERS='[{"port":9000,"stream":"srt"}]'`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      demo: { type: 'boolean' },
      'http-port': { type: 'string' },
      'rtmp-port': { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(USAGE); return; }
  const overrides: Record<string, unknown> = {};
  if (values.host) overrides.host = values.host;
  if (values['http-port']) overrides.http = { port: Number(values['http-port']) };
  if (values['rtmp-port']) overrides.rtmp = { port: Number(values['rtmp-port']) };
  if (values.demo) overrides.demo = { enabled: true };
  const cfg = loadConfig(overrides);
  const log = createRootLogger();
  const app = await new Nowcast(cfg, log).start();
  const host = cfg.host === '0.0.0.0' ? 'localhost' : cfg.host;
  log.info(`Nowcast is up: streams at http://${host}:${app.httpPort}/ ; publish to rtmp://${host}:${app.rtmpPort}/${cfg.rtmp.app} with stream key NAME` +
    (cfg.srt.listeners.length ? ` or srt://${host}:${cfg.srt.listeners[0]!.port}` : '') +
    (cfg.demo.enabled ? ` ; demo at http://${host}:${app.httpPort}/watch/${cfg.demo.stream}` : ''));
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ sig }, 'stopping');
    app.close();
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
