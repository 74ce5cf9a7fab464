// The relay's public pages (ops/http.ts) on a bare uWS app on a loopback port, serving the player
// files of `playerDir`: what the ops tests request pages and scripts from.
import uWS from 'uWebSockets.js';
import { pino } from 'pino';
import { mountHttp } from '../../ops/http.js';

export interface PagesServer {
  base: string;
  /** Safe to call twice. */
  close(): void;
}

export async function startPagesServer(playerDir: string): Promise<PagesServer> {
  const app = uWS.App();
  mountHttp(app, { playerDir, log: pino({ level: 'silent' }), streams: () => [], ready: () => true });
  let listen: uWS.us_listen_socket | false = false;
  const port = await new Promise<number>((resolve, reject) => app.listen('127.0.0.1', 0, (s) => {
    if (!s) return reject(new Error('listen failed'));
    listen = s;
    resolve(uWS.us_socket_local_port(s));
  }));
  let closed = false;
  return {
    base: `http://127.0.0.1:${port}`,
    close() {
      if (closed) return;
      closed = true;
      if (listen) uWS.us_listen_socket_close(listen);
      app.close();
    },
  };
}
