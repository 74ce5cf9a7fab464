import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config.js';
import { ladderFor, type AbrConfig } from '../../abr/config.js';

const load = (abr: unknown): unknown => loadConfig({ abr } as Parameters<typeof loadConfig>[0], {});

describe('abr config', () => {
  it('is off by default, with a ladder ready to turn on', () => {
    const c = loadConfig({}, {});
    expect(c.abr.enabled).toBe(false);
    expect(ladderFor(c.abr, 'any')).toEqual([]);
    expect(c.abr.ladder.length).toBeGreaterThan(0);
  });

  it.each([
    [{ enabled: 'yes' }, 'config abr.enabled: expected a boolean'],
    [{ ladder: {} }, 'config abr.ladder: expected an array'],
    [{ ladder: [{ name: 'Big', height: 360, videoBitrate: 800_000 }] }, 'config abr.ladder[0].name:'],
    [{ ladder: [{ name: 'source', height: 360, videoBitrate: 800_000 }] }, 'config abr.ladder[0].name: "source"'],
    [{ ladder: [{ name: 'a', height: 360, videoBitrate: 800_000 }, { name: 'a', height: 180, videoBitrate: 300_000 }] }, 'config abr.ladder[1].name: "a" appears twice'],
    [{ ladder: [{ name: 'a', height: 361, videoBitrate: 800_000 }] }, 'config abr.ladder[0].height:'],
    [{ ladder: [{ name: 'a', height: 360, videoBitrate: 10 }] }, 'config abr.ladder[0].videoBitrate:'],
    [{ streams: [{ stream: 'x', ladder: [{ name: 'a', height: 0, videoBitrate: 800_000 }] }] }, 'config abr.streams[0].ladder[0].height:'],
    [{ streams: [{ stream: 'x', enabled: 1 }] }, 'config abr.streams[0].enabled: expected a boolean'],
  ])('refuses %j with an error naming the key', (abr, message) => {
    expect(() => load(abr)).toThrow(message);
  });

  it('gives each stream the ladder its rule says, and none while abr.enabled is off', () => {
    const ladder = [{ name: '180p', height: 180, videoBitrate: 250_000 }];
    const own = [{ name: '90p', height: 90, videoBitrate: 100_000 }];
    const c: AbrConfig = { enabled: true, ladder, ackIntervalMs: 200, streams: [{ stream: 'off', enabled: false }, { stream: 'own', ladder: own }] };
    expect(ladderFor(c, 'other')).toEqual(ladder);
    expect(ladderFor(c, 'off')).toEqual([]);
    expect(ladderFor(c, 'own')).toEqual(own);
    expect(ladderFor({ ...c, enabled: false }, 'own')).toEqual([]);
  });
});
