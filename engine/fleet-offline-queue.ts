/**
 * When each doctor falls silent: a time-bucketed queue of deadlines, so that the offline sweep looks only at the
 * doctors whose deadline may have passed instead of scanning the whole fleet every second.
 *
 * A fix moves a doctor's deadline later, usually every few seconds. Updating a heap on every fix would cost
 * O(log n) per fix; instead the queue is lazy: a doctor stays in the bucket of the deadline it was scheduled with,
 * and when that bucket comes due the sweep asks for the doctor's current deadline and either acts on it or moves
 * the doctor to the bucket of the new deadline. Each doctor is thus touched about once per silence period
 * (60 s by default), whatever its fix rate.
 */

/** Per-slot answer of {@link OfflineQueue.due}'s callback: the slot's current deadline, or NaN to stop tracking it. */
export type DeadlineCheck = (slot: number) => number;

export class OfflineQueue {
  private readonly buckets = new Map<number, number[]>();
  /** Min-heap of the keys of {@link buckets}. */
  private readonly heap: number[] = [];
  /** Bucket each slot is scheduled in, NaN when none. Entries elsewhere for the slot are stale and skipped. */
  private queued = new Float64Array(0);

  /** @param bucketMs width of a bucket, ms (> 0). */
  constructor(private readonly bucketMs: number) {}

  /** Makes room for slots below `capacity`. */
  ensureCapacity(capacity: number): void {
    if (capacity <= this.queued.length) return;
    const queued = new Float64Array(capacity).fill(Number.NaN);
    queued.set(this.queued);
    this.queued = queued;
  }

  /** Schedules a check of `slot` at `deadline` (ms), unless it is already scheduled no later than that bucket. */
  schedule(slot: number, deadline: number): void {
    const bucket = Math.floor(deadline / this.bucketMs);
    const current = this.queued[slot] as number;
    if (current <= bucket) return;
    this.queued[slot] = bucket;
    let list = this.buckets.get(bucket);
    if (list === undefined) {
      list = [];
      this.buckets.set(bucket, list);
      this.pushKey(bucket);
    }
    list.push(slot);
  }

  /** Stops tracking a slot (its doctor was removed or went offline). */
  cancel(slot: number): void {
    if (slot < this.queued.length) this.queued[slot] = Number.NaN;
  }

  /**
   * Visits every scheduled slot whose bucket starts at or before `now`: `check(slot)` returns the slot's current
   * deadline to keep tracking it (the queue reschedules it) or NaN to drop it. The callback acts on deadlines
   * ≤ now itself; the queue guarantees that every slot whose deadline is ≤ now is visited.
   */
  due(now: number, check: DeadlineCheck): void {
    const carriedSlots: number[] = [];
    const carriedDeadlines: number[] = [];
    while (this.heap.length > 0 && (this.heap[0] as number) * this.bucketMs <= now) {
      const bucket = this.popKey();
      const list = this.buckets.get(bucket) ?? [];
      this.buckets.delete(bucket);
      for (const slot of list) {
        if (this.queued[slot] !== bucket) continue;
        this.queued[slot] = Number.NaN;
        const deadline = check(slot);
        if (Number.isNaN(deadline)) continue;
        if (Math.floor(deadline / this.bucketMs) <= bucket) {
          // Not yet due but in the bucket being emptied (it straddles now): keep it there for the next sweep.
          carriedSlots.push(slot);
          carriedDeadlines.push(deadline);
        } else {
          this.schedule(slot, deadline);
        }
      }
    }
    for (let i = 0; i < carriedSlots.length; i++) {
      this.schedule(carriedSlots[i] as number, carriedDeadlines[i] as number);
    }
  }

  private pushKey(key: number): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as number) <= key) break;
      heap[i] = heap[parent] as number;
      i = parent;
    }
    heap[i] = key;
  }

  private popKey(): number {
    const heap = this.heap;
    const top = heap[0] as number;
    const last = heap.pop() as number;
    const n = heap.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && (heap[child + 1] as number) < (heap[child] as number)) child++;
      if ((heap[child] as number) >= last) break;
      heap[i] = heap[child] as number;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
