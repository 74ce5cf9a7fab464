import { describe, expect, it } from 'vitest';
import { PendingReplies } from '../../util/pending.js';

describe('PendingReplies', () => {
  it('resolves each request with the reply settled under its own id', async () => {
    const r = new PendingReplies<string>();
    const posted: number[] = [];
    const a = r.ask((id) => posted.push(id));
    const b = r.ask((id) => posted.push(id));
    expect(posted).toHaveLength(2);
    expect(posted[0]).not.toBe(posted[1]);
    r.settle(posted[1]!, 'second');
    r.settle(posted[0]!, 'first');
    await expect(a).resolves.toBe('first');
    await expect(b).resolves.toBe('second');
    expect(r.size).toBe(0);
  });

  it('ignores a reply to an unknown or already settled id', async () => {
    const r = new PendingReplies<number>();
    let id = 0;
    const p = r.ask((i) => { id = i; });
    r.settle(id + 100, 1);
    r.settle(id, 2);
    r.settle(id, 3);
    await expect(p).resolves.toBe(2);
  });

  it('rejects every waiting request when the other side is gone, and then holds none', async () => {
    const r = new PendingReplies<number>();
    const a = r.ask(() => {});
    const b = r.ask(() => {});
    r.failAll(new Error('thread ended'));
    await expect(a).rejects.toThrow('thread ended');
    await expect(b).rejects.toThrow('thread ended');
    expect(r.size).toBe(0);
  });
});
