import { describe, expect, it } from 'vitest';
import { mergeConfig, optionsFromQuery } from '../../player/config.js';

const url = 'ws://127.0.0.1/live/x';

describe('the player\'s rendition options', () => {
  it('lets the relay choose by default, with no cap', () => {
    const c = mergeConfig({ url });
    expect(c.rendition).toBeNull();
    expect(c.maxHeight).toBe(0);
  });

  it('takes a pin and a cap from the watch page\'s query', () => {
    expect(optionsFromQuery(new URLSearchParams('rendition=360p&maxHeight=480'))).toMatchObject({ rendition: '360p', maxHeight: 480 });
    expect(mergeConfig({ url, ...optionsFromQuery(new URLSearchParams('rendition=source')) }).rendition).toBe('source');
  });

  it.each([
    [{ rendition: 'Big One' }, '"rendition" must be null or a rendition name'],
    [{ rendition: 7 as unknown as string }, '"rendition" must be null or a rendition name'],
    [{ maxHeight: -1 }, '"maxHeight" must be >= 0'],
  ])('refuses %j naming the option', (o, message) => {
    expect(() => mergeConfig({ url, ...o })).toThrow(message);
  });
});
