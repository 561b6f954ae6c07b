/**
 * The simulation's agenda: things due at a simulated time, taken in time order and, at equal times, in the order they
 * were scheduled — so that a run is a pure function of its scenario.
 */

/** A binary min-heap of items by (at, order of scheduling). */
export class Timeline<Item> {
  private readonly times: number[] = [];
  private readonly orders: number[] = [];
  private readonly items: Item[] = [];
  private scheduled = 0;

  /** Number of items waiting. */
  get size(): number {
    return this.items.length;
  }

  /** Schedules `item` at simulated time `at`. */
  schedule(at: number, item: Item): void {
    this.times.push(at);
    this.orders.push(this.scheduled++);
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  /** The earliest time waiting, or Infinity. */
  nextAt(): number {
    return this.items.length === 0 ? Infinity : (this.times[0] as number);
  }

  /** Removes and returns the earliest item due at or before `until`, with its time; undefined when none is due. */
  takeDue(until: number): { at: number; item: Item } | undefined {
    if (this.items.length === 0 || (this.times[0] as number) > until) return undefined;
    const at = this.times[0] as number;
    const item = this.items[0] as Item;
    const last = this.items.length - 1;
    this.swap(0, last);
    this.times.pop();
    this.orders.pop();
    this.items.pop();
    this.down(0);
    return { at, item };
  }

  private before(a: number, b: number): boolean {
    const ta = this.times[a] as number;
    const tb = this.times[b] as number;
    return ta < tb || (ta === tb && (this.orders[a] as number) < (this.orders[b] as number));
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && this.before(left, smallest)) smallest = left;
      if (right < n && this.before(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(a: number, b: number): void {
    [this.times[a], this.times[b]] = [this.times[b] as number, this.times[a] as number];
    [this.orders[a], this.orders[b]] = [this.orders[b] as number, this.orders[a] as number];
    [this.items[a], this.items[b]] = [this.items[b] as Item, this.items[a] as Item];
  }
}
