// The nowcast command (bin/nowcast.mjs) in a child process: --help, and --print-config for how
// file, environment and flags combine. The configuration in process: test/app/config.test.ts.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaults, leafKeys } from '../../../app/config.js';

const BIN = fileURLToPath(new URL('../../../bin/nowcast.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nowcast-cli-'));
/** Writes a config file and returns its path. */
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('the nowcast command', () => {
  const run = (args: string[], env: Record<string, string> = {}): { status: number | null; out: string; err: string } => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NOWCAST_')));
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmpdir(), encoding: 'utf8', env: { ...clean, ...env } });
    return { status: r.status, out: r.stdout, err: r.stderr };
  };

  it('prints help listing every flag, the precedence and every key with its env var, from any directory', () => {
    const out = execFileSync(process.execPath, [BIN, '--help'], { cwd: '/', encoding: 'utf8' });
    for (const flag of ['--config', '--demo', '--host', '--http-port', '--ops-host', '--ops-port', '--rtmp-port', '--log-level', '--log-format', '--drain-ms', '--role', '--nats', '--set', '--print-config', '--version', '--help']) {
      expect(out).toContain(flag);
    }
    expect(out).toContain('flags > environment (NOWCAST_…) > config file > defaults');
    for (const [key] of leafKeys()) expect(out).toContain(`${key} `);
    expect(out).toContain('NOWCAST_RELAY_SLOW_VIEWER_BYTES');
    expect(out).toContain('NOWCAST_CONFIG');
  });

  it('merges file, env and flags in that order of precedence', () => {
    const path = file('cli.json', { http: { port: 7201 }, rtmp: { port: 7202 }, relay: { idleTimeoutS: 30 } });
    const r = run(['--config', path, '--rtmp-port', '7204', '--set', 'relay.idleTimeoutS=45', '--print-config'],
      { NOWCAST_RTMP_PORT: '7203', NOWCAST_RELAY_IDLE_TIMEOUT_S: '40' });
    expect(r.status).toBe(0);
    const c = JSON.parse(r.out) as typeof defaults;
    expect(c.http.port).toBe(7201);
    expect(c.rtmp.port).toBe(7204);
    expect(c.relay.idleTimeoutS).toBe(45);
  });

  it('sets the cluster role and NATS servers from --role and --nats', () => {
    const r = run(['--role', 'edge-only', '--nats', 'nats://a:4222, nats://b:4222', '--print-config'], {});
    expect(r.status).toBe(0);
    const c = JSON.parse(r.out) as typeof defaults;
    expect(c.cluster).toMatchObject({ role: 'edge-only', natsServers: ['nats://a:4222', 'nats://b:4222'] });
  });

  it('exits 1 with one line naming the key when the config file is wrong', () => {
    const path = file('cli-bad.json', { http: { port: 'eighty' } });
    const r = run(['--print-config'], { NOWCAST_CONFIG: path });
    expect(r.status).toBe(1);
    expect(r.err.trim()).toBe(`config http.port: expected a number, got "eighty" (in ${path})`);
  });
});
