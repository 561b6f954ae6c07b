/**
 * Long loops on the event loop in slices: a loop over a thousand bookings (a batch window's candidate search) calls
 * {@link TimeSlice.pause} once per item and gives way to waiting work — an emergency's request, a doctor's answer —
 * whenever it has run for a slice, instead of holding the loop for a hundred milliseconds.
 */
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Default length of a slice, ms: short against the 10 ms an emergency may wait for its offer. At 1 000 bookings/s the
 * emergency offer's p90 was 13 ms with 4 ms slices, 9–11 ms with 2 (1 ms did no better).
 */
export const DEFAULT_SLICE_MS = 2;

/**
 * Work that must not wait a whole slice at each of its steps: an emergency between its request and its offer. While
 * any is in flight, every slice ends after one item, so that the emergency's next step (its write's answer, its offer)
 * waits one item of a long loop, not 2 ms of it.
 */
export class UrgentWork {
  private inFlight = 0;

  /** Whether urgent work is in flight now. */
  get pending(): boolean {
    return this.inFlight > 0;
  }

  /** Runs `work` as urgent work. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
    }
  }
}

/** The process's urgent work: what {@link TimeSlice.pause} gives way to at once. */
export const urgentWork = new UrgentWork();

/** One loop's slicing. */
export class TimeSlice {
  private sliceStart = performance.now();
  /** How many times the loop gave way (tests, metrics). */
  pauses = 0;

  constructor(private readonly sliceMs = DEFAULT_SLICE_MS) {}

  /**
   * Resolves at once while the slice lasts; once it has run out, or while urgent work is in flight
   * ({@link urgentWork}), after the event loop's waiting work.
   */
  async pause(): Promise<void> {
    if (!urgentWork.pending && performance.now() - this.sliceStart < this.sliceMs) return;
    this.pauses++;
    await nextTurn();
    this.sliceStart = performance.now();
  }
}

/**
 * Writes a long loop keeps started and unfinished at once, by default: as many as the PostgreSQL store writes at once
 * (2 grouped statements of 64); more only wait in the store's queue. While they wait, each write's booking versions,
 * events and pending calls are alive, and a young-generation collection copies them: a batch's thousand offers started
 * at once made the collections in its offer phase 2.3× as long as the others (4.8 against 2.1 ms), and routine POSTs
 * queued behind them. 256 did as well for emergencies; 128 halved the POSTs' p99 again (26–28 against 43–45 ms).
 */
export const MAX_STARTED = 128;

/**
 * Starts `start(item, index)` for every item, in slices (pausing between starts once a slice has run out), without
 * waiting for one to finish before starting the next, but with at most `maxStarted` unfinished at once; resolves with
 * their results in order (rejects as the first that rejects, after every item has been started). For a long list of
 * independent writes: they go out in parallel, but starting a thousand of them does not hold the event loop.
 */
export async function startInSlices<Item, Result>(
  items: Iterable<Item>,
  start: (item: Item, index: number) => Promise<Result>,
  maxStarted = MAX_STARTED,
): Promise<Result[]> {
  const slice = new TimeSlice();
  const started: Promise<Result>[] = [];
  let unfinished = 0;
  let slotFreed: (() => void) | undefined;
  const finished = (): void => {
    unfinished -= 1;
    slotFreed?.();
  };
  for (const item of items) {
    while (unfinished >= maxStarted) {
      await new Promise<void>((resolve) => {
        slotFreed = resolve;
      });
      slotFreed = undefined;
    }
    await slice.pause();
    const result = start(item, started.length);
    unfinished += 1;
    result.then(finished, finished);
    started.push(result);
  }
  return Promise.all(started);
}
