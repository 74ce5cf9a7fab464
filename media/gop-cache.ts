// The chunks since the last keyframe, so a newcomer (a viewer, or an edge relay) starts at
// once and at a keyframe. Bounded: a GOP past maxBytes is dropped whole, and newcomers then
// wait for the next keyframe rather than get a GOP with a hole in it.
export class GopCache<T> {
  #items: T[] = [];
  #bytes = 0;
  #open = false;

  constructor(private readonly maxBytes: number) {}

  /** Adds a chunk; a keyframe starts a new GOP. */
  push(item: T, bytes: number, keyframe: boolean): void {
    if (keyframe) {
      this.reset();
      this.#open = true;
    }
    if (!this.#open) return;
    if (this.#bytes + bytes > this.maxBytes) {
      this.reset();
      return;
    }
    this.#items.push(item);
    this.#bytes += bytes;
  }

  /** The cached GOP, first chunk a keyframe; empty when there is none to start from. */
  get items(): readonly T[] {
    return this.#open ? this.#items : [];
  }

  get bytes(): number {
    return this.#bytes;
  }

  reset(): void {
    this.#items = [];
    this.#bytes = 0;
    this.#open = false;
  }
}
