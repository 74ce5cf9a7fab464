// The server runs with app/node-flags.ts's V8 flags wherever a user starts it: the npm scripts
// and the `nowcast` command carry them as literals (package.json cannot import), so they are
// checked against the one list here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../app/node-flags.js';

const root = new URL('../../', import.meta.url);
const scripts = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('the node flags the server runs with', () => {
  it.each(['start', 'demo'])('are on the command line of npm run %s', (name) => {
    const cmd = scripts[name]!;
    const run = cmd.slice(cmd.lastIndexOf('tsx '));
    for (const f of NODE_FLAGS) expect(run.split(' ').indexOf(f)).toBeGreaterThan(0);
    expect(run.split(' ').indexOf('app/main.ts')).toBeGreaterThan(Math.max(...NODE_FLAGS.map((f) => run.split(' ').indexOf(f))));
  });

  it('are in the shebang of the nowcast command', () => {
    const shebang = readFileSync(new URL('bin/nowcast.mjs', root), 'utf8').split('\n')[0]!;
    expect(shebang.startsWith('#!/usr/bin/env -S node ')).toBe(true);
    for (const f of NODE_FLAGS) expect(shebang.split(' ')).toContain(f);
  });

  it('are flags this node accepts', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [...NODE_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
