// Entry point: parse flags, load config, start, drain on SIGTERM, stop on SIGINT.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { loadConfig, ConfigError, combine, defaults, envName, leafKeys, setOverrides, type Config } from './config.js';
import { createRootLogger } from '../util/log.js';
import { Nowcast } from './nowcast.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function usage(): string {
  const keys = leafKeys().map(([key, value]) => `  ${key.padEnd(28)} ${envName(key).padEnd(40)} ${JSON.stringify(value)}`);
  return `nowcast ${VERSION}: sub-second live video (RTMP/SRT in, fMP4 over WebSocket, MSE out)

Usage: nowcast [options]          (from a checkout: npx nowcast …, or npm start -- …)

Options:
  -c, --config FILE      read settings from a JSON file (also NOWCAST_CONFIG=FILE)
      --demo             also publish a synthetic test source as stream "${defaults.demo.stream}"   (demo.enabled)
      --host ADDR        bind address for HTTP, RTMP and SRT             (host)
      --http-port N      HTTP + WebSocket port; 0 picks a free one       (http.port)
      --ops-host ADDR    operations listener address (/metrics, /api/streams, /dashboard);
                         not loopback needs ops.token                    (ops.host)
      --ops-port N       operations port; 0 picks a free one             (ops.port)
      --rtmp-port N      RTMP ingest port; 0 disables RTMP               (rtmp.port)
      --log-level LEVEL  fatal, error, warn, info, debug, trace, silent  (log.level)
      --log-format F     json, pretty, or auto (pretty on a terminal)    (log.format)
      --drain-ms N       on SIGTERM, how long connected viewers may stay (shutdown.drainMs)
      --role ROLE        all-in-one, ingest-only or edge-only            (cluster.role)
      --nats URL[,URL]   NATS servers for ingest-only and edge-only      (cluster.natsServers)
      --set KEY=VALUE    set any key below, e.g. --set relay.slowViewerBytes=1048576 (repeatable;
                         arrays as JSON: --set 'srt.listeners=[{"port":9000,"stream":"srt"}]')
      --print-config     print the merged configuration as JSON and exit
  -v, --version          print the version and exit
  -h, --help             print this help and exit

Precedence: flags > environment (NOWCAST_…) > config file > defaults.
  The config file is a JSON object with any subset of the keys, nested as below, e.g.
    {"http": {"port": 8081}, "srt": {"listeners": []}, "latency": {"streams": [{"stream": "auction", "targetMs": 300, "pinned": true}]}}
  Each key's env var is NOWCAST_ + its path in SCREAMING_SNAKE_CASE; numbers as digits,
  booleans as true/false/1/0, arrays as JSON. Unknown keys, wrong types and contradictions are
  errors that name the key (and the file, when the value came from it).

Signals: SIGTERM drains (/readyz → 503, new viewers refused, connected ones stay up to
  shutdown.drainMs), then stops; SIGINT (Ctrl-C) stops at once; a second signal exits now.

Cluster: --role ingest-only --nats nats://HOST:4222 on the node publishers reach; --role edge-only
  --nats nats://HOST:4222 on each edge (no RTMP/SRT there). See docs/scaling.md.

Endpoints: public port: / /streams.json /watch/NAME /live/NAME (WebSocket) /livez /readyz
  operations port (ops.host:ops.port, 127.0.0.1:${defaults.ops.port}): /metrics /api/streams /dashboard /livez /readyz;
  with ops.token set, all but /livez and /readyz need "Authorization: Bearer TOKEN".

Keys (key, env var, default):
${keys.join('\n')}`;
}

/** Flags → a config patch. Numbers are checked here so the error names the flag. */
function flagOverrides(values: Record<string, unknown>): Record<string, unknown> {
  const num = (flag: string, key: string): number | undefined => {
    const raw = values[flag];
    if (typeof raw !== 'string') return undefined;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(key, `--${flag} ${raw} is not a number`);
    return n;
  };
  const o: Record<string, Record<string, unknown> | unknown> = {};
  const put = (section: string, key: string, v: unknown): void => {
    if (v !== undefined) o[section] = { ...(o[section] as Record<string, unknown> | undefined), [key]: v };
  };
  if (typeof values.host === 'string') o.host = values.host;
  put('http', 'port', num('http-port', 'http.port'));
  put('rtmp', 'port', num('rtmp-port', 'rtmp.port'));
  put('ops', 'port', num('ops-port', 'ops.port'));
  put('ops', 'host', values['ops-host']);
  put('shutdown', 'drainMs', num('drain-ms', 'shutdown.drainMs'));
  put('log', 'level', values['log-level']);
  put('log', 'format', values['log-format']);
  if (values.demo) put('demo', 'enabled', true);
  put('cluster', 'role', values.role);
  if (typeof values.nats === 'string') put('cluster', 'natsServers', values.nats.split(',').map((u) => u.trim()).filter(Boolean));
  // --set comes first so the named flags win over it.
  return combine(setOverrides((values.set as string[] | undefined) ?? []), o);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c' },
      demo: { type: 'boolean' },
      'http-port': { type: 'string' },
      'rtmp-port': { type: 'string' },
      host: { type: 'string' },
      'ops-host': { type: 'string' },
      'ops-port': { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      'drain-ms': { type: 'string' },
      role: { type: 'string' },
      nats: { type: 'string' },
      set: { type: 'string', multiple: true },
      'print-config': { type: 'boolean' },
      version: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(usage()); return; }
  if (values.version) { console.log(VERSION); return; }
  const cfg: Config = loadConfig(flagOverrides(values), process.env, values.config);
  if (values['print-config']) { console.log(JSON.stringify(cfg, null, 2)); return; }
  const log = createRootLogger(cfg.log.level, cfg.log.format);
  const app = await new Nowcast(cfg, log).start();
  const host = cfg.host === '0.0.0.0' ? 'localhost' : cfg.host;
  const edge = cfg.cluster.role === 'edge-only';
  log.info({ version: VERSION, role: cfg.cluster.role, httpPort: app.httpPort, rtmpPort: app.rtmpPort, opsPort: app.opsPort, config: values.config ?? process.env.NOWCAST_CONFIG ?? null },
    `Nowcast is up: streams at http://${host}:${app.httpPort}/` +
    (app.rtmpPort ? ` ; publish to rtmp://${host}:${app.rtmpPort}/${cfg.rtmp.app} with stream key NAME` : '') +
    (cfg.srt.listeners.length && !edge ? ` ${app.rtmpPort ? 'or' : '; publish to'} srt://${host}:${cfg.srt.listeners[0]!.port}` : '') +
    (edge ? ` ; edge of ${cfg.cluster.natsServers.join(',')}` : '') +
    (cfg.demo.enabled && !edge ? ` ; demo at http://${host}:${app.httpPort}/watch/${cfg.demo.stream}` : '') +
    ` ; operations at http://${cfg.ops.host.includes(':') ? `[${cfg.ops.host}]` : cfg.ops.host}:${app.opsPort}/` +
    (cfg.metrics.enabled ? ' (/metrics, /dashboard, /api/streams)' : ' (/dashboard, /api/streams)'));

  let signals = 0;
  const exit = (): void => { setTimeout(() => process.exit(0), 200).unref(); };
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      log.warn({ sig }, 'second signal: exiting now');
      app.close();
      process.exit(1);
    }
    if (sig === 'SIGTERM') {
      log.info({ sig, drainMs: cfg.shutdown.drainMs }, 'draining before stopping');
      void app.drain().then(exit);
    } else {
      log.info({ sig }, 'stopping');
      void app.close().then(exit);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err instanceof TypeError && 'code' in err ? `nowcast: ${err.message} (see --help)` : err);
  process.exit(1);
});
