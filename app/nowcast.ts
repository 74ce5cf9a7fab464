// Builds the parts and wires them: ingest → relay. No logic of its own.
import { fileURLToPath } from 'node:url';
import { latencyServiceFor, type Config } from './config.js';
import type { Logger } from './log.js';
import { Relay } from '../relay/relay.js';
import { Ingest } from '../ingest/ingest.js';
import { TestSource } from '../ingest/test-source.js';

export const PLAYER_DIR = fileURLToPath(new URL('../dist/player', import.meta.url));

export class Nowcast {
  readonly relay: Relay;
  readonly ingest: Ingest;
  #demo: TestSource | null = null;
  #cfg: Config;
  #log: Logger;
  #closed = false;
  httpPort = 0;
  rtmpPort = 0;

  constructor(cfg: Config, log: Logger) {
    this.#cfg = cfg;
    this.#log = log;
    this.relay = new Relay(cfg.relay, log.child({ component: 'relay' }), PLAYER_DIR, (name) => latencyServiceFor(cfg, name));
    this.ingest = new Ingest(cfg, this.relay, log.child({ component: 'ingest' }));
  }

  async start(): Promise<this> {
    this.httpPort = await this.relay.listen(this.#cfg.host, this.#cfg.http.port);
    this.rtmpPort = await this.ingest.start();
    const d = this.#cfg.demo;
    if (d.enabled && this.rtmpPort) {
      this.#demo = new TestSource(this.#cfg.remux.ffmpegPath, {
        url: `rtmp://127.0.0.1:${this.rtmpPort}/${this.#cfg.rtmp.app}/${d.stream}`,
        width: d.width, height: d.height, fps: d.fps, clockStrip: true,
      }, this.#log.child({ component: 'demo' }));
    }
    return this;
  }

  /** Stops everything. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#demo?.close();
    this.ingest.close();
    this.relay.close();
  }
}
