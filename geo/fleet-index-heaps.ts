/**
 * The two heaps of a nearest-neighbour query, in typed arrays reused from query to query so a query allocates
 * nothing but its result.
 */

/** Min-heap of cells keyed by a lower bound of their distance from the query point. */
export class CellQueue {
  private keys = new Float64Array(256);
  private cells = new Int32Array(256);
  private count = 0;

  /** Number of queued cells. */
  get size(): number {
    return this.count;
  }

  /** Empties the queue. */
  clear(): void {
    this.count = 0;
  }

  /** Smallest key; only meaningful when the queue is not empty. */
  peekKey(): number {
    return this.keys[0] as number;
  }

  /** Adds a cell with its key. */
  push(key: number, cell: number): void {
    if (this.count === this.keys.length) this.grow();
    const keys = this.keys;
    const cells = this.cells;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentKey = keys[parent] as number;
      if (parentKey <= key) break;
      keys[i] = parentKey;
      cells[i] = cells[parent] as number;
      i = parent;
    }
    keys[i] = key;
    cells[i] = cell;
  }

  /** Removes and returns the cell with the smallest key; the queue must not be empty. */
  pop(): number {
    const keys = this.keys;
    const cells = this.cells;
    const top = cells[0] as number;
    const n = --this.count;
    if (n === 0) return top;
    const key = keys[n] as number;
    const cell = cells[n] as number;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && (keys[child + 1] as number) < (keys[child] as number)) child++;
      const childKey = keys[child] as number;
      if (childKey >= key) break;
      keys[i] = childKey;
      cells[i] = cells[child] as number;
      i = child;
    }
    keys[i] = key;
    cells[i] = cell;
    return top;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    const cells = new Int32Array(this.cells.length * 2);
    cells.set(this.cells);
    this.keys = keys;
    this.cells = cells;
  }
}

/**
 * The best k points seen so far, as a max-heap on (distance, id) so the current k-th is at the root. Ties on
 * distance are broken by id (JavaScript string order), which makes results independent of insertion order.
 */
export class TopK {
  private distances = new Float64Array(16);
  private slots = new Int32Array(16);
  private count = 0;
  private k = 0;
  private ids: readonly string[] = [];

  /** Number of points held (≤ k). */
  get size(): number {
    return this.count;
  }

  /** True once k points are held. */
  get full(): boolean {
    return this.count === this.k;
  }

  /** Distance of the current k-th point (the worst held); only meaningful when {@link full}. */
  get worstDistance(): number {
    return this.distances[0] as number;
  }

  /** Starts a query for the best `k` (k ≥ 1); `ids` resolves slots for tie-breaking. */
  reset(k: number, ids: readonly string[]): void {
    if (k > this.distances.length) {
      let capacity = this.distances.length;
      while (capacity < k) capacity *= 2;
      this.distances = new Float64Array(capacity);
      this.slots = new Int32Array(capacity);
    }
    this.k = k;
    this.count = 0;
    this.ids = ids;
  }

  /** Offers a point; keeps it if it beats the current k-th (or fewer than k are held). */
  offer(distance: number, slot: number): void {
    if (this.count < this.k) {
      this.siftUp(this.count++, distance, slot);
      return;
    }
    const worst = this.distances[0] as number;
    if (distance > worst) return;
    if (distance === worst && !((this.ids[slot] as string) < (this.ids[this.slots[0] as number] as string)))
      return;
    this.siftDown(distance, slot);
  }

  /**
   * Moves the held points into `outSlots`/`outDistances` in ascending (distance, id) order and returns how many
   * there were; the arrays must hold at least {@link size} entries. Leaves the heap empty.
   */
  drainAscending(outSlots: Int32Array, outDistances: Float64Array): number {
    const n = this.count;
    for (let rank = n - 1; rank >= 0; rank--) {
      outSlots[rank] = this.slots[0] as number;
      outDistances[rank] = this.distances[0] as number;
      const lastDistance = this.distances[this.count - 1] as number;
      const lastSlot = this.slots[this.count - 1] as number;
      this.count--;
      if (this.count > 0) this.siftDown(lastDistance, lastSlot);
    }
    return n;
  }

  /** True when (d1, slot1) sorts after (d2, slot2). */
  private after(d1: number, slot1: number, d2: number, slot2: number): boolean {
    return d1 > d2 || (d1 === d2 && (this.ids[slot1] as string) > (this.ids[slot2] as string));
  }

  private siftUp(from: number, distance: number, slot: number): void {
    const distances = this.distances;
    const slots = this.slots;
    let i = from;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.after(distance, slot, distances[parent] as number, slots[parent] as number)) break;
      distances[i] = distances[parent] as number;
      slots[i] = slots[parent] as number;
      i = parent;
    }
    distances[i] = distance;
    slots[i] = slot;
  }

  /** Replaces the root with (distance, slot) and restores the heap. */
  private siftDown(distance: number, slot: number): void {
    const distances = this.distances;
    const slots = this.slots;
    const n = this.count;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (
        child + 1 < n &&
        this.after(
          distances[child + 1] as number,
          slots[child + 1] as number,
          distances[child] as number,
          slots[child] as number,
        )
      ) {
        child++;
      }
      if (!this.after(distances[child] as number, slots[child] as number, distance, slot)) break;
      distances[i] = distances[child] as number;
      slots[i] = slots[child] as number;
      i = child;
    }
    distances[i] = distance;
    slots[i] = slot;
  }
}
