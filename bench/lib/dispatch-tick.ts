/**
 * Section "tick" of the dispatch bench: what one dispatcher tick costs with a large active set and nothing due. The
 * tick runs ten times a second on the event loop, so its time is a stall every request of that moment waits out.
 * A dispatcher over the in-memory store is restored with `active` bookings held by as many doctors (a status mix of a
 * busy afternoon: offers pending, visits assigned for later, doctors on the way and with patients, bookings for
 * tomorrow), then ticked at a time when no offer lapses, no search times out and no arrival target passes. The
 * restore's time (load, put the fleet's statuses in step) is reported too: it is how long a restarted engine with
 * that many bookings waits before it dispatches again.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { InThreadAssignmentSolver } from '../../dispatch/assignment.ts';
import type { Booking, BookingStatus } from '../../dispatch/booking-types.ts';
import { Dispatcher } from '../../dispatch/dispatcher.ts';
import { MemoryBookingStore } from '../../dispatch/memory-booking-store.ts';
import { SYSTEM } from '../../dispatch/recorder.ts';
import { Fleet } from '../../engine/fleet.ts';
import { TrafficField } from '../../geo/traffic-field.ts';
import type { BenchContext } from './bench.ts';
import { routineBooking } from './bench-bookings.ts';
import { syntheticCity } from './city.ts';
import { measureAsync } from './harness.ts';
import { seededRandom } from './random.ts';

const BENCH = 'dispatch';
/** Active bookings of the runs (--sizes overrides). */
const ACTIVE_COUNTS = [10_000, 30_000, 100_000];
/** 09:00 UTC, noon in Moscow. */
const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);
const MINUTE = 60_000;

/** Share of the active bookings per status (the rest of a busy afternoon's bookings are searching: none here). */
const STATUS_SHARES: readonly [BookingStatus, number][] = [
  ['created', 0.05],
  ['offered', 0.2],
  ['assigned', 0.15],
  ['en_route', 0.25],
  ['arrived', 0.1],
  ['in_progress', 0.25],
];

function statusOf(draw: number): BookingStatus {
  for (const [status, share] of STATUS_SHARES) {
    if (draw < share) return status;
    draw -= share;
  }
  return 'in_progress';
}

/**
 * The i-th booking, held (except for `created`) by the doctor with the same index, none of its deadlines due at
 * {@link NOW}: offers lapse and assigned and created bookings start hours later, arrival targets pass in 25 min or more.
 */
function activeBooking(i: number, status: BookingStatus, lat: number, lng: number): Booking {
  const booking = routineBooking(`booking-${i}`, i, {
    lat,
    lng,
    status,
    createdAt: NOW - 5 * MINUTE,
    version: 3,
  });
  if (status === 'created' || status === 'assigned') booking.scheduledAt = NOW + 6 * 60 * MINUTE;
  if (status === 'created') return booking;
  booking.searchingAt = NOW - 5 * MINUTE;
  booking.doctorId = `doctor-${i}`;
  booking.offeredAt = NOW - 4 * MINUTE;
  if (status === 'offered') {
    booking.offerExpiresAt = NOW + 6 * 60 * MINUTE;
    return booking;
  }
  booking.assignedAt = NOW - 4 * MINUTE;
  booking.assignedEtaSeconds = 900;
  if (status === 'assigned') return booking;
  booking.enRouteAt = NOW - 4 * MINUTE;
  if (status === 'en_route') return booking;
  booking.arrivedAt = NOW - 2 * MINUTE;
  if (status === 'in_progress') booking.startedAt = NOW - MINUTE;
  return booking;
}

/** Times dispatcher.restore, then dispatcher.tick, at each active-set size. */
export async function measureTick(context: BenchContext): Promise<void> {
  const { reporter } = context;
  for (const active of context.sizes ?? ACTIVE_COUNTS) {
    const city = syntheticCity(active, 11);
    const random = seededRandom(12);
    const fleet = new Fleet({ offlineAfterMs: 24 * 60 * MINUTE });
    const store = new MemoryBookingStore();
    for (let i = 0; i < active; i++) {
      const lat = city.lat[i] as number;
      const lng = city.lng[i] as number;
      fleet.register({ id: `doctor-${i}`, specializations: ['therapist'] }, NOW);
      fleet.applyFix({ doctorId: `doctor-${i}`, lat, lng, ts: NOW }, NOW);
      const booking = activeBooking(i, statusOf(random()), lat + 0.01, lng);
      await store.create(booking, [
        { bookingId: booking.id, from: null, to: booking.status, by: SYSTEM, at: booking.createdAt },
      ]);
    }
    const dispatcher = new Dispatcher({
      store,
      engine: { fleet, traffic: new TrafficField() },
      solver: new InThreadAssignmentSolver(),
      clock: () => NOW,
    });
    const restoreStarted = performance.now();
    const restored = await dispatcher.restore();
    const restoreMs = performance.now() - restoreStarted;
    let now = NOW;
    // How long the event loop was held at a stretch: a tick's time includes the pauses of its sliced loops.
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const measurement = await measureAsync(
      async () => {
        // A tick 100 ms after the last, as startTicking runs them; nothing falls due within the 20 000 ticks.
        now += 100;
        const summary = await dispatcher.tick(now);
        if (summary.offersLapsed + summary.departed + summary.slaBreaches > 0)
          throw new Error(`tick bench: something fell due at ${now - NOW} ms: ${JSON.stringify(summary)}`);
        // A turn of the event loop between ticks, as between timer runs, so that the delay monitor sees the loop.
        await nextTurn();
      },
      { seconds: context.seconds, warmupOps: 50, maxOps: 20_000 },
    );
    loopDelay.disable();
    await dispatcher.stop();
    const parameters = { active, held: restored.doctorsHeld };
    reporter.add(BENCH, 'tick', 'p50_ms', measurement.p50Us / 1000, 'ms', parameters);
    reporter.add(BENCH, 'tick', 'p99_ms', measurement.p99Us / 1000, 'ms', parameters);
    reporter.add(BENCH, 'tick', 'mean_ms', measurement.meanUs / 1000, 'ms', parameters);
    reporter.add(BENCH, 'tick', 'max_ms', measurement.maxUs / 1000, 'ms', parameters);
    reporter.add(BENCH, 'tick', 'loop_held_max_ms', loopDelay.max / 1e6, 'ms', parameters);
    reporter.add(BENCH, 'restore', 'ms', restoreMs, 'ms', parameters);
  }
}
