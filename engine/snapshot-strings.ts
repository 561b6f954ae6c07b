/**
 * Lists of strings (doctor ids by slot, H3 cells by cell slot, clinic ids) kept in step between the event loop and
 * the snapshot worker, so that a snapshot sends only the entries that changed since the last one. Ids change when a
 * doctor is placed in a new slot, so after the first snapshot a capture sends a handful of strings instead of 100 000.
 *
 * The sender's {@link StringMirror} remembers what the receiver's list holds; it compares by value (`!==` on strings),
 * so it stays right whatever happens on its side — a fleet replaced by a restore, slots reused — as long as every
 * update it hands out reaches the receiver, in order. When that is in doubt (the worker failed), the sender resets it.
 */

/** Entries to write into the receiver's list: `values[k]` goes to index `at[k]`. */
export interface StringUpdates {
  at: number[];
  values: string[];
}

/** The sender's copy of one of the receiver's lists. */
export class StringMirror {
  private known: string[] = [];

  /**
   * The updates that make the receiver's entries `from … to − 1` equal to `source`'s, skipping the indexes where
   * `skip` (when given) is 0: those entries are not read, so they need not be sent. Records the updates as sent.
   */
  diff(source: readonly string[], from = 0, to = source.length, skip?: Int32Array): StringUpdates {
    const known = this.known;
    const at: number[] = [];
    const values: string[] = [];
    const end = Math.min(to, source.length);
    for (let i = from; i < end; i++) {
      if (skip !== undefined && skip[i] === 0) continue;
      const value = source[i] as string;
      if (value !== known[i]) {
        known[i] = value;
        at.push(i);
        values.push(value);
      }
    }
    return { at, values };
  }

  /** Forgets what the receiver holds (a new receiver): the next diffs send everything. */
  reset(): void {
    this.known = [];
  }
}

/** Writes `updates` into `list` (the receiver's side of a {@link StringMirror}). */
export function applyStringUpdates(list: string[], updates: StringUpdates): void {
  const { at, values } = updates;
  for (let k = 0; k < at.length; k++) list[at[k] as number] = values[k] as string;
}

/** The three lists a fleet snapshot keeps in step, on the sender's side. */
export class CaptureMirrors {
  readonly ids = new StringMirror();
  readonly cells = new StringMirror();
  readonly clinics = new StringMirror();
  /** The pass that sent ids ahead of the next capture (engine/fleet-capture.ts), if one is under way or done. */
  idsPass: { index: object; stamp: number; complete: boolean } | undefined;

  /** Forgets everything the receiver holds. */
  reset(): void {
    this.ids.reset();
    this.cells.reset();
    this.clinics.reset();
    this.idsPass = undefined;
  }
}

/** The three lists on the receiver's side. */
export class CaptureDictionary {
  /** Doctor id per index slot ('' for a free slot). */
  readonly ids: string[] = [];
  /** H3 cell per cell slot of the index (entries of empty cells may be stale). */
  readonly cells: string[] = [];
  /** Clinic id per clinic code. */
  readonly clinics: string[] = [];
}
