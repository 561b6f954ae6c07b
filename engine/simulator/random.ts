/**
 * Seeded pseudo-random numbers for the simulator. Not for anything security-related.
 *
 * mulberry32 keeps its whole state in one 32-bit integer, so every doctor and detector can own an independent stream
 * in a Uint32Array: an entity's behaviour then depends only on the seed and its index, not on how many other entities
 * exist or how the ticks are sliced.
 */

/** Derives a well-mixed 32-bit stream state from a seed, a stream family and an index (splitmix32 finaliser). */
export function streamSeed(seed: number, family: number, index: number): number {
  let h =
    (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(family + 1, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) |
    0;
  h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
  h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Advances stream `index` of `states` and returns a number in [0, 1). */
export function nextIn(states: Uint32Array, index: number): number {
  const a = ((states[index] as number) + 0x6d2b79f5) | 0;
  states[index] = a >>> 0;
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
}

/** A single seeded stream with a few conveniences, for set-up code off the hot path. */
export class Random {
  private readonly state = new Uint32Array(1);

  /** Same `seed` and `family` ⇒ same sequence. */
  constructor(seed: number, family = 0) {
    this.state[0] = streamSeed(seed, family, 0);
  }

  /** A number in [0, 1). */
  next(): number {
    return nextIn(this.state, 0);
  }

  /** A number in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** An integer in [min, max]. */
  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** An element of a non-empty list, by cumulative weights when given. */
  pick<T>(items: readonly T[], weights?: readonly number[]): T {
    if (weights === undefined) return items[Math.floor(this.next() * items.length)] as T;
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    let target = this.next() * total;
    for (let i = 0; i < items.length; i += 1) {
      target -= weights[i] ?? 0;
      if (target < 0) return items[i] as T;
    }
    return items[items.length - 1] as T;
  }
}
