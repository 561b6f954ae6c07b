/**
 * Section "batch" of the dispatch bench: one batch of the matcher (dispatch/matching.ts) as the tick runs it — the
 * candidate search with its coverage gaps, the solve, the offers — for 1 000 searching bookings at 100k doctors, over
 * the in-memory store. At 1k bookings/s this is the work of every second, done on the event loop in slices, and what
 * it allocates is what the young-generation collections then pause the loop for; so besides its time the section
 * reports the bytes it allocates per booking (V8's sampling heap profiler, counting what was collected too) and the
 * longest stretch it held the loop.
 *
 * Each repetition restores a new dispatcher with a new set of bookings (uniform over the bench city, none of them
 * emergencies) over the same fleet, all of whose doctors are available; the first repetition warms up and is not
 * reported. The profiled repetition is a separate one, since the profiler slows what it watches.
 */
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { InThreadAssignmentSolver } from '../../dispatch/assignment.ts';
import type { Booking } from '../../dispatch/booking-types.ts';
import { Dispatcher } from '../../dispatch/dispatcher.ts';
import { MemoryBookingStore } from '../../dispatch/memory-booking-store.ts';
import { SYSTEM } from '../../dispatch/recorder.ts';
import { Fleet } from '../../engine/fleet.ts';
import { TrafficField } from '../../geo/traffic-field.ts';
import type { BenchContext } from './bench.ts';
import { routineBooking } from './bench-bookings.ts';
import { doctorId, queryPoints, syntheticCity } from './city.ts';

const BENCH = 'dispatch';
const DOCTORS = 100_000;
const BOOKINGS = 1_000;
/** Timed repetitions after the warm-up. */
const REPETITIONS = 5;
/** 09:00 UTC, noon in Moscow. */
const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);
/** When the dispatcher is restored; each booking's first try is then one batch window (1 s by default) later. */
const RESTORE_AT = NOW + 1_000;
/** The tick whose batch is measured: past every booking's first try. */
const BATCH_AT = RESTORE_AT + 2_000;

/** A routine booking searching since {@link NOW}, wanting a therapist. */
function searchingBooking(id: string, lat: number, lng: number, i: number): Booking {
  const booking = routineBooking(id, i, { lat, lng, status: 'searching', createdAt: NOW, version: 2 });
  booking.specialization = 'therapist';
  booking.searchingAt = NOW;
  return booking;
}

/** A dispatcher over a new store holding {@link BOOKINGS} searching bookings (the repetition's own points). */
async function dispatcherWithBookings(
  fleet: Fleet,
  traffic: TrafficField,
  round: number,
): Promise<Dispatcher> {
  const store = new MemoryBookingStore();
  const points = queryPoints(BOOKINGS, 100 + round);
  for (let i = 0; i < BOOKINGS; i++) {
    const booking = searchingBooking(
      `booking-${round}-${i}`,
      points[2 * i] as number,
      points[2 * i + 1] as number,
      i,
    );
    await store.create(booking, [
      { bookingId: booking.id, from: null, to: 'created', by: SYSTEM, at: NOW },
      { bookingId: booking.id, from: 'created', to: 'searching', by: SYSTEM, at: NOW },
    ]);
  }
  const dispatcher = new Dispatcher({
    store,
    engine: { fleet, traffic },
    solver: new InThreadAssignmentSolver(),
    clock: () => RESTORE_AT,
  });
  await dispatcher.restore();
  return dispatcher;
}

/** Runs the batch of a fresh dispatcher; throws unless it matched every booking. */
async function runBatch(dispatcher: Dispatcher): Promise<void> {
  const summary = await dispatcher.tick(BATCH_AT);
  if (summary.batch?.offered !== BOOKINGS)
    throw new Error(`batch bench: ${JSON.stringify(summary.batch)} instead of ${BOOKINGS} offers`);
  await dispatcher.stop();
}

/** Bytes allocated while `work` runs, collected or not (sampled every 64 bytes on average). */
async function allocatedBytes(work: () => Promise<void>): Promise<number> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 64,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  let failure: unknown;
  try {
    await work();
  } catch (error) {
    failure = error ?? new Error('batch bench: the profiled work failed');
  }
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  if (failure !== undefined) throw failure;
  let total = 0;
  const pending = [profile.head];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    total += node.selfSize;
    pending.push(...node.children);
  }
  return total;
}

/** Times {@link REPETITIONS} batches (after a warm-up one), then profiles the allocation of one more. */
export async function measureBatch(context: BenchContext): Promise<void> {
  const { reporter } = context;
  const city = syntheticCity(DOCTORS, 21);
  const fleet = new Fleet({ offlineAfterMs: 24 * 60 * 60_000 });
  for (let i = 0; i < DOCTORS; i++) {
    fleet.register({ id: doctorId(i), specializations: ['therapist'], rating: 4.5 }, NOW);
    fleet.applyFix(
      { doctorId: doctorId(i), lat: city.lat[i] as number, lng: city.lng[i] as number, ts: NOW },
      NOW,
    );
  }
  const traffic = new TrafficField();
  const times: number[] = [];
  const held: number[] = [];
  for (let round = 0; round <= REPETITIONS; round++) {
    const dispatcher = await dispatcherWithBookings(fleet, traffic, round);
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const started = performance.now();
    await runBatch(dispatcher);
    const ms = performance.now() - started;
    loopDelay.disable();
    if (round === 0) continue;
    times.push(ms);
    held.push(loopDelay.max / 1e6);
  }
  const profiled = await dispatcherWithBookings(fleet, traffic, REPETITIONS + 1);
  const bytes = await allocatedBytes(() => runBatch(profiled));
  times.sort((a, b) => a - b);
  held.sort((a, b) => a - b);
  const median = (values: number[]): number => values[Math.floor(values.length / 2)] as number;
  const parameters = { doctors: DOCTORS, bookings: BOOKINGS };
  reporter.add(BENCH, 'batch', 'p50_ms', median(times), 'ms', parameters);
  reporter.add(BENCH, 'batch', 'max_ms', times.at(-1) as number, 'ms', parameters);
  reporter.add(BENCH, 'batch', 'per_booking_us', (median(times) * 1000) / BOOKINGS, 'µs', parameters);
  reporter.add(BENCH, 'batch', 'loop_held_max_ms', median(held), 'ms', parameters);
  reporter.add(BENCH, 'batch', 'allocated_kb_per_booking', bytes / 1024 / BOOKINGS, 'KB', parameters);
}
