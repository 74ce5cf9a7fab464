// TLS when a certificate is configured: HTTPS/WSS from uWS SSLApp, and RTMPS ingest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { startNowcast, type Running } from '../../helpers/nowcast.js';
import { Publisher } from '../../helpers/publisher.js';
import { Viewer } from '../../helpers/viewer.js';
import { freeTcpPort } from '../../helpers/ports.js';

let n: Running;
let pub: Publisher | undefined;
const dir = mkdtempSync(join(tmpdir(), 'nowcast-tls-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');

beforeAll(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  n = await startNowcast({ tls: { cert, key }, rtmp: { tlsPort: await freeTcpPort() } });
});

afterAll(async () => {
  await pub?.stop();
  n?.app.close();
});

describe('TLS', () => {
  it('serves HTTPS and WSS, and takes an RTMPS publisher', async () => {
    const base = `https://127.0.0.1:${n.app.httpPort}`;
    const status = await new Promise<number>((resolve, reject) => {
      request(`${base}/livez`, { agent: new Agent({ rejectUnauthorized: false }) }, (res) => resolve(res.statusCode ?? 0)).on('error', reject).end();
    });
    expect(status).toBe(200);
    pub = new Publisher({ url: `rtmps://127.0.0.1:${n.cfg.rtmp.tlsPort}/live/secure` });
    const v = new Viewer(`wss://127.0.0.1:${n.app.httpPort}/live/secure`, { rejectUnauthorized: false });
    await v.until(() => v.chunks().length >= 10, 20_000, 'chunks over WSS from an RTMPS publisher');
    expect(v.chunks()[0]!.keyframe).toBe(true);
    v.close();
  });
});
