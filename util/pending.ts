// Replies awaited by id from another thread (a worker's stats, for example): ask() posts a
// request under a fresh id, settle() answers it, failAll() rejects whatever is still waiting
// when the thread ends, so no caller waits forever on a thread that is gone.
export class PendingReplies<T> {
  #next = 0;
  readonly #waiting = new Map<number, { resolve: (v: T) => void; reject: (e: Error) => void }>();

  /** Calls `post` with the request's id; resolves with the reply settled under that id. */
  ask(post: (id: number) => void): Promise<T> {
    const id = ++this.#next;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      post(id);
    });
  }

  /** The reply to request `id`; an unknown or already settled id is ignored. */
  settle(id: number, value: T): void {
    this.#waiting.get(id)?.resolve(value);
    this.#waiting.delete(id);
  }

  /** Rejects every request still waiting. */
  failAll(err: Error): void {
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }

  get size(): number {
    return this.#waiting.size;
  }
}
