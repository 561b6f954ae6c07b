/**
 * The fleet's change journal: which placed doctors changed (position or status) since the last drain, so that a
 * reader following the fleet incrementally (the live map, ten times a second) visits the doctors that changed instead
 * of scanning the fleet.
 *
 * A byte per slot says whether the slot is already listed, so a doctor sending ten fixes between two drains is listed
 * once, and marking costs a load, a compare and, the first time, two stores. The list holds at most one entry per
 * slot, so it is bounded by the fleet's capacity even when nobody drains it.
 */

export class ChangeJournal {
  private listed = new Uint8Array(0);
  private slots = new Int32Array(0);
  private count = 0;
  /** Ids forgotten since the last drain; bounded by the doctors removed in that time (removals are rare). */
  private removed = new Set<string>();

  /** Makes room for slots below `capacity`. */
  ensureCapacity(capacity: number): void {
    if (capacity <= this.listed.length) return;
    const listed = new Uint8Array(capacity);
    listed.set(this.listed);
    const slots = new Int32Array(capacity);
    slots.set(this.slots.subarray(0, this.count));
    this.listed = listed;
    this.slots = slots;
  }

  /** Records that the doctor in `slot` (below the capacity) changed. */
  mark(slot: number): void {
    if (this.listed[slot] !== 0) return;
    this.listed[slot] = 1;
    this.slots[this.count++] = slot;
  }

  /** Records that the doctor `id` was forgotten. */
  markRemoved(id: string): void {
    this.removed.add(id);
  }

  /** Number of slots listed since the last drain. */
  get pending(): number {
    return this.count;
  }

  /**
   * Empties the journal: calls `visit` with every listed slot, in the order they were first marked, and returns the
   * ids removed meanwhile. A listed slot may have been freed (its doctor removed) or reused by another doctor since;
   * the visitor checks.
   */
  drain(visit: (slot: number) => void): string[] {
    const slots = this.slots;
    const listed = this.listed;
    const count = this.count;
    this.count = 0;
    // Flags first: a visitor that throws must not leave slots flagged but unlisted (never listed again).
    for (let i = 0; i < count; i++) listed[slots[i] as number] = 0;
    for (let i = 0; i < count; i++) visit(slots[i] as number);
    if (this.removed.size === 0) return [];
    const removed = [...this.removed];
    this.removed.clear();
    return removed;
  }
}
