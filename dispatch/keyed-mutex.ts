/**
 * Mutual exclusion by key: work on one booking runs one piece at a time (an accept racing an offer lapse, a cancel
 * racing a preemption), while different bookings proceed in parallel. Keys of one call are taken in sorted order, so
 * two calls naming the same keys cannot deadlock.
 *
 * A held key has a queue of the calls waiting for it, first come first served; a free key has no entry. Taking a free
 * key costs a map entry, no promise: nearly every write takes its booking's key uncontended, a thousand times a second
 * and more.
 */
export class KeyedMutex {
  /** The held keys, each with the wake-ups of the calls waiting for it, in order. */
  private readonly held = new Map<string, (() => void)[]>();

  /**
   * Runs `work` once every key is free, holding them until it settles; resolves or rejects as `work` does. With every
   * key free, `work` starts before this returns.
   */
  async run<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const ordered = keys.length === 1 ? keys : [...new Set(keys)].sort();
    let taken = 0;
    try {
      for (const key of ordered) {
        const turn = this.take(key);
        if (turn !== undefined) await turn;
        taken += 1;
      }
      return await work();
    } finally {
      for (let i = taken - 1; i >= 0; i--) this.give(ordered[i] as string);
    }
  }

  /** Keys currently held or waited for (tests; a leak shows as a number that never returns to 0). */
  get size(): number {
    return this.held.size;
  }

  /** Takes a free key at once (undefined), or queues for it: the promise resolves when the key is handed over. */
  private take(key: string): Promise<void> | undefined {
    const queue = this.held.get(key);
    if (queue === undefined) {
      this.held.set(key, []);
      return undefined;
    }
    return new Promise<void>((resolve) => queue.push(resolve));
  }

  /** Hands the key to the first call waiting for it, or frees it. */
  private give(key: string): void {
    const queue = this.held.get(key) as (() => void)[];
    const next = queue.shift();
    if (next === undefined) this.held.delete(key);
    else next();
  }
}
