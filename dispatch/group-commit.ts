/**
 * Group commit for booking writes: writes issued while the store is busy wait in a queue and go out together, many
 * in one statement, while a write issued to an idle store goes out at once, alone. Under load (a batch window offering
 * hundreds of bookings at once) this turns hundreds of round trips into a few; at rest it adds nothing.
 *
 * Urgent writes (emergencies) leave the queue first, so a routine burst does not stand between an emergency and its
 * offer. A group holds at most one write per booking and per doctor (so that the order of rows inside one statement
 * cannot matter). When a group's statement fails as a whole (a unique index refusing one of its rows, a lost
 * connection), it is split and its halves are tried again, so that every write gets its own answer and one bad write
 * does not sink the others.
 */
import { TimeSlice } from './time-slice.ts';

/** One write waiting in the queue. */
export interface GroupItem<Kind extends string> {
  kind: Kind;
  /** The booking written; a group holds it at most once. */
  bookingId: string;
  /** Doctors the write takes or lets go; a group holds each at most once. */
  doctorIds: readonly string[];
  /** Leaves the queue before non-urgent writes. */
  urgent: boolean;
}

/**
 * Writes a group of one kind in one statement. Resolves with the result of each item, in order: `undefined` for
 * written, an Error for an item refused on its own (e.g. a stale version). Rejects when the statement failed as a
 * whole.
 */
export type GroupWriter<Kind extends string, Item extends GroupItem<Kind>> = (
  kind: Kind,
  items: readonly Item[],
) => Promise<readonly (Error | undefined)[]>;

/** Limits of a {@link GroupCommit}. */
export interface GroupCommitOptions {
  /**
   * Statements in flight at once (at most the connections the store may use for it); with more than one, the last
   * slot is kept for urgent writes. Default 4.
   */
  maxInFlight?: number;
  /**
   * Writes in one statement at most. Default 64: a group that resolves at once runs its callers back to back, so a
   * larger one holds the event loop longer.
   */
  maxGroup?: number;
}

/** Counts of a {@link GroupCommit}. */
export interface GroupCommitStats {
  /** Statements run, retries included. */
  statements: number;
  /** Writes submitted and sent. */
  writes: number;
  /** Writes sent again, in a smaller group, after their group's statement failed. */
  retried: number;
}

interface Waiting<Item> {
  item: Item;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The queue and its flushing. One per store. */
export class GroupCommit<Kind extends string, Item extends GroupItem<Kind>> {
  private readonly urgent: Waiting<Item>[] = [];
  private readonly routine: Waiting<Item>[] = [];
  private inFlight = 0;
  private readonly counts: GroupCommitStats = { statements: 0, writes: 0, retried: 0 };
  private readonly maxInFlight: number;
  private readonly maxGroup: number;
  /** Slots only urgent writes may take. */
  private readonly reserved: number;

  constructor(
    private readonly write: GroupWriter<Kind, Item>,
    options: GroupCommitOptions = {},
  ) {
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 4);
    this.maxGroup = Math.max(1, options.maxGroup ?? 64);
    this.reserved = this.maxInFlight > 1 ? 1 : 0;
  }

  /** Writes `item`; resolves once it is committed, rejects with its own refusal or the store's error. */
  submit(item: Item): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      (item.urgent ? this.urgent : this.routine).push({ item, resolve, reject });
      this.pump();
    });
  }

  /** What went out so far. */
  stats(): GroupCommitStats {
    return { ...this.counts };
  }

  /** Writes waiting for a statement (tests, metrics). */
  get waiting(): number {
    return this.urgent.length + this.routine.length;
  }

  /**
   * Starts statements while there are slots: any write may take a slot but the last, which is kept for urgent writes
   * (when there is more than one), so that an emergency never waits behind a full set of routine statements.
   */
  private pump(): void {
    for (;;) {
      const shared = this.inFlight < this.maxInFlight - this.reserved;
      const urgentOnly = !shared && this.inFlight < this.maxInFlight;
      const ready = (shared && this.waiting > 0) || (urgentOnly && this.urgent.length > 0);
      if (!ready) return;
      const group = this.takeGroup(shared);
      this.inFlight++;
      void this.run(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /**
   * The next group: the oldest urgent write (else the oldest routine one) fixes the kind; then writes of that kind,
   * urgent before routine (routine ones only when `withRoutine`) and oldest first, that share no booking and no
   * doctor with those already taken. Writes passed over keep their place.
   */
  private takeGroup(withRoutine: boolean): Waiting<Item>[] {
    const first = (this.urgent[0] ?? this.routine[0]) as Waiting<Item>;
    const kind = first.item.kind;
    const bookings = new Set<string>();
    const doctors = new Set<string>();
    const group: Waiting<Item>[] = [];
    for (const queue of withRoutine ? [this.urgent, this.routine] : [this.urgent]) {
      let kept = 0;
      for (const waiting of queue) {
        const { item } = waiting;
        const fits =
          group.length < this.maxGroup &&
          item.kind === kind &&
          !bookings.has(item.bookingId) &&
          !item.doctorIds.some((doctorId) => doctors.has(doctorId));
        if (fits) {
          group.push(waiting);
          bookings.add(item.bookingId);
          for (const doctorId of item.doctorIds) doctors.add(doctorId);
        } else {
          queue[kept++] = waiting;
        }
      }
      queue.length = kept;
    }
    return group;
  }

  /**
   * Writes a group. When its statement fails as a whole, which write sank it is unknown: the group is split in halves,
   * each written again (recursively), so that a bad write costs a few statements, not one per write, and in the end
   * every write gets its own answer.
   */
  private async run(group: readonly Waiting<Item>[], retry = false): Promise<void> {
    const kind = (group[0] as Waiting<Item>).item.kind;
    let results: readonly (Error | undefined)[];
    this.counts.statements++;
    if (retry) this.counts.retried += group.length;
    else this.counts.writes += group.length;
    try {
      results = await this.write(
        kind,
        group.map((waiting) => waiting.item),
      );
    } catch (error) {
      if (group.length === 1) {
        (group[0] as Waiting<Item>).reject(error);
        return;
      }
      const half = Math.ceil(group.length / 2);
      await this.run(group.slice(0, half), true);
      await this.run(group.slice(half), true);
      return;
    }
    // The slot is free now; the answers go out meanwhile.
    void answerInSlices(group, results);
  }
}

/**
 * Answers a group's callers in order, urgent ones first (they lead the group). Each answer runs its caller's follow-up
 * (memory, fleet, events) at once, so a group of 64 answered together held the event loop several milliseconds; in
 * time slices, an emergency's own answer or request gets in between (after every answer while one is in flight).
 */
async function answerInSlices<Item>(
  group: readonly Waiting<Item>[],
  results: readonly (Error | undefined)[],
): Promise<void> {
  const slice = new TimeSlice();
  for (let index = 0; index < group.length; index++) {
    if (index > 0) await slice.pause();
    const waiting = group[index] as Waiting<Item>;
    const result = results[index];
    if (result === undefined) waiting.resolve();
    else waiting.reject(result);
  }
}
