// The control for bench:abuse's /livez figure: a uWS app that does nothing but answer /livez, in
// a process of its own at the server's priority. Probed like the server, it shows what the
// machine itself adds to a request's latency while the load generators and the server share its
// two cores; the server's tail beyond the control's is the server's own.
import uWS from 'uWebSockets.js';

uWS.App().get('/livez', (res) => { res.cork(() => res.writeHeader('Content-Type', 'text/plain').end('ok')); })
  .listen('127.0.0.1', 0, (sock) => {
    if (!sock) process.exit(1);
    console.log(`port ${uWS.us_socket_local_port(sock)}`);
  });
