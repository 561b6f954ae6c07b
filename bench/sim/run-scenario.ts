/**
 * One run of a scenario with one matcher: the real embedded store (PGlite in memory, with the migrations), the real
 * engine (fleet and traffic field), the real dispatcher and the in-process bus, on a simulated clock advanced in steps
 * as fast as the machine allows. Bookings arrive as the scenario says, the doctors' phones answer and drive, the
 * detectors feed the traffic field, and the dispatcher ticks at every step.
 */
import { performance } from 'node:perf_hooks';
import { TOPICS } from '../../engine/bus.ts';
import { Engine } from '../../engine/engine.ts';
import { createLogger } from '../../engine/logger.ts';
import { Metrics } from '../../engine/metrics.ts';
import { migrate } from '../../engine/migrate.ts';
import { PgliteStore } from '../../engine/store-pglite.ts';
import type { Store } from '../../engine/store.ts';
import { TotError } from '../../geo/errors.ts';
import { InThreadAssignmentSolver } from '../../dispatch/assignment.ts';
import type { Actor } from '../../dispatch/booking-types.ts';
import { Dispatcher } from '../../dispatch/dispatcher.ts';
import { DoctorPhones, type PhoneDue } from '../../dispatch/simulation/doctor-phones.ts';
import { Timeline } from '../../dispatch/simulation/timeline.ts';
import { CountingBus } from './counting-bus.ts';
import { BookingLedger } from './ledger.ts';
import type { MatchingMode } from './options.ts';
import { PATIENT_CANCEL_REASON, type RunResult } from './report.ts';
import { PairRandom, type Scenario, type ScheduledBooking } from './scenario.ts';
import { TimedStore } from './timed-store.ts';

/** How long the detectors report before the first booking, so the traffic field is learnt, not free flow. */
const TRAFFIC_WARM_UP_MS = 20 * 60_000;
/** The engine's offline sweep runs this often, simulated ms. */
const SWEEP_EVERY_MS = 10_000;
const PATIENT_CANCEL_STATUSES = new Set([
  'created',
  'searching',
  'offered',
  'assigned',
  'en_route',
  'no_doctor_found',
]);
const FINISHED = new Set(['completed', 'cancelled', 'no_doctor_found']);

type Due =
  PhoneDue | { kind: 'booking'; booking: ScheduledBooking } | { kind: 'cancel'; booking: ScheduledBooking };

/** Options of {@link runScenario}. */
export interface RunOptions {
  /** A store to run on instead of a fresh PGlite in memory (it must be migrated and hold no bookings). */
  store?: Store;
}

/**
 * Runs `scenario` with `matching` and returns its figures and bookings. Deterministic: the same scenario and matcher
 * give the same bookings' times and outcomes (wall-clock figures aside).
 *
 * @throws whatever the dispatcher throws that is not a TotError (a TotError from a call the city makes — an answer to
 *   an offer that lapsed meanwhile — is counted, not thrown).
 */
export async function runScenario(
  scenario: Scenario,
  matching: MatchingMode,
  options: RunOptions = {},
): Promise<RunResult> {
  const setupStarted = performance.now();
  const opened = options.store ?? (await openStore());
  const store = new TimedStore(opened);
  const bus = new CountingBus();
  let now = scenario.startAt - TRAFFIC_WARM_UP_MS;
  const clock = (): number => now;
  const engine = new Engine({ bus, logger: createLogger('silent'), metrics: new Metrics(), clock });
  const traffic = scenario.traffic();
  for (let t = now; t <= scenario.startAt; t += 15_000) {
    for (const reading of traffic.step(t).readings) engine.applyReading(reading, t);
  }
  now = scenario.startAt;

  const timeline = new Timeline<Due>();
  const phones = phonesOf(scenario, engine, timeline as Timeline<unknown>, clock);
  for (const doctor of scenario.doctors) {
    engine.fleet.register(
      {
        id: doctor.doctorId,
        specializations: doctor.specializations,
        clinicId: doctor.clinicId,
        rating: doctor.rating,
      },
      now,
    );
  }
  phones.sendFirstFixes(now);
  const {
    batchWindowSeconds,
    lookAheadMinutes,
    coverageWeight,
    rematchSavingMinutes,
    ratingSecondsPerStar,
    fairnessSecondsPerVisit,
  } = scenario.options;
  const dispatcher = new Dispatcher({
    store,
    engine,
    solver: new InThreadAssignmentSolver(),
    channel: phones,
    bus,
    topics: TOPICS,
    clock,
    settings: {
      matching,
      ...(batchWindowSeconds === undefined ? {} : { batchWindowMs: Math.round(batchWindowSeconds * 1000) }),
      ...(lookAheadMinutes === undefined ? {} : { lookAheadMs: Math.round(lookAheadMinutes * 60_000) }),
      ...(coverageWeight === undefined ? {} : { coverageWeight }),
      ...(rematchSavingMinutes === undefined
        ? {}
        : { rematchSavingMs: Math.round(rematchSavingMinutes * 60_000) }),
      scoring: {
        ...(ratingSecondsPerStar === undefined ? {} : { ratingSecondsPerStar }),
        ...(fairnessSecondsPerVisit === undefined ? {} : { fairnessSecondsPerVisit }),
      },
    },
  });
  await dispatcher.restore();
  phones.connect(dispatcher);
  const ledger = new BookingLedger();
  const unsubscribe = dispatcher.onChange((change) => ledger.record(change));
  for (const booking of scenario.bookings) timeline.schedule(booking.at, { kind: 'booking', booking });
  const setupSeconds = (performance.now() - setupStarted) / 1000;

  store.reset();
  const started = performance.now();
  const stepMs = Math.round(scenario.options.stepSeconds * 1000);
  const idOfIndex = new Map<number, string>();
  let open = 0;
  let batches = 0;
  let jointBatches = 0;
  let jointRows = 0;
  let nextSweepAt = now + SWEEP_EVERY_MS;
  let previous = now;
  for (let t = now + stepMs; ; t += stepMs) {
    phones.advance(previous, t);
    for (let due = timeline.takeDue(t); due !== undefined; due = timeline.takeDue(t)) {
      now = due.at;
      const item = due.item;
      if (DoctorPhones.owns(item)) {
        await phones.handle(item, now);
      } else if (item.kind === 'booking') {
        const created = await dispatcher.create(item.booking.request, patientOf(item.booking));
        ledger.created(created.id, item.booking.index, item.booking.request.priority, item.booking.at);
        idOfIndex.set(item.booking.index, created.id);
        if (item.booking.cancelAfterMs !== undefined) {
          timeline.schedule(now + item.booking.cancelAfterMs, { kind: 'cancel', booking: item.booking });
        }
      } else {
        await cancelByPatient(dispatcher, ledger, idOfIndex.get(item.booking.index), item.booking);
      }
    }
    now = t;
    for (const reading of traffic.step(t).readings) engine.applyReading(reading, t);
    if (t >= nextSweepAt) {
      await engine.sweep();
      nextSweepAt += SWEEP_EVERY_MS;
    }
    const tick = await dispatcher.tick(t);
    if (tick.batch !== undefined && tick.batch.rows > 0) {
      batches++;
      if (tick.batch.rows > 1) {
        jointBatches++;
        jointRows += tick.batch.rows;
      }
    }
    previous = t;
    if (t >= scenario.bookingsEndAt) {
      open = 0;
      for (const account of ledger.accounts.values()) if (!FINISHED.has(account.status)) open++;
      if ((open === 0 && timeline.size === 0) || t >= scenario.endAt) break;
    }
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const storeSeconds = store.busySeconds;
  const storeCalls = store.calls;
  const simulatedMinutes = (now - scenario.startAt) / 60_000;

  // Read every booking back from the store: the figures must be those of what was persisted.
  let storedBookings = 0;
  const mismatches: string[] = [];
  for (const account of ledger.accounts.values()) {
    const stored = await dispatcher.get(account.id);
    storedBookings++;
    if (stored.status !== account.status)
      mismatches.push(`${account.id}: stored ${stored.status}, seen ${account.status}`);
  }
  unsubscribe();
  await dispatcher.stop();
  await engine.stop();
  await bus.close();
  if (!options.store) await store.close();

  return {
    figures: {
      matching,
      simulatedMinutes,
      wallSeconds,
      setupSeconds,
      storeSeconds,
      storeCalls,
      phones: phones.counters,
      events: bus.published.get(TOPICS.events) ?? 0,
      doubleHoldings: ledger.doubleHoldings.length,
      anomalies: ledger.anomalies.length + mismatches.length,
      storedBookings,
      batches,
      jointBatches,
      meanJointBatchRows: jointBatches === 0 ? null : jointRows / jointBatches,
    },
    accounts: [...ledger.accounts.values()].sort((a, b) => a.index - b.index),
  };
}

/** The scenario's phones: fixes applied to the engine, answers drawn per doctor and booking (scenario.ts). */
function phonesOf(
  scenario: Scenario,
  engine: Engine,
  timeline: Timeline<unknown>,
  clock: () => number,
): DoctorPhones {
  const indexOfAddress = new Map<string, number>();
  for (const booking of scenario.bookings) indexOfAddress.set(booking.request.address, booking.index);
  return new DoctorPhones({
    doctors: scenario.doctors,
    traffic: () => engine.traffic,
    sendFix: (fix, now) => engine.applyFix(fix, now),
    timeline,
    clock,
    heartbeatsFrom: scenario.startAt,
    behaviour: {
      answerRandom: (address, doctorIndex) =>
        new PairRandom(scenario.options.seed, indexOfAddress.get(address) ?? -1, doctorIndex),
      visitMs: (address) => scenario.bookings[indexOfAddress.get(address) ?? -1]?.visitMs ?? 30 * 60_000,
      declineShare: scenario.options.declineShare,
    },
  });
}

async function openStore(): Promise<Store> {
  const store = await PgliteStore.open();
  await migrate(store);
  return store;
}

function patientOf(booking: ScheduledBooking): Actor {
  return { id: booking.request.patientId, role: 'patient' };
}

/** The patient cancels unless the doctor is there already (or the booking ended otherwise). */
async function cancelByPatient(
  dispatch: { cancel: (id: string, by: Actor, reason: string) => Promise<unknown> },
  ledger: BookingLedger,
  id: string | undefined,
  booking: ScheduledBooking,
): Promise<void> {
  if (id === undefined) return;
  const status = ledger.accounts.get(id)?.status;
  if (status === undefined || !PATIENT_CANCEL_STATUSES.has(status)) return;
  try {
    await dispatch.cancel(id, patientOf(booking), PATIENT_CANCEL_REASON);
  } catch (error) {
    if (!(error instanceof TotError)) throw error;
  }
}
