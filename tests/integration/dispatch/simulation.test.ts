/**
 * The dispatch simulation (bench/sim) on a short, crowded scenario: 30 simulated minutes of bookings in a small city
 * with more demand than doctors, so that offers are declined and lapse, emergencies preempt, patients cancel, searches
 * end without a doctor and some visits are still open when the city stops. Checks the report's invariants for both
 * matchers, and that the same seed gives the same report.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BookingLedger, type BookingAccount } from '../../../bench/sim/ledger.ts';
import { resolveSimulationOptions } from '../../../bench/sim/options.ts';
import { summariseRun, type RunResult } from '../../../bench/sim/report.ts';
import { buildScenario } from '../../../bench/sim/scenario.ts';
import { simulate, type Simulation } from '../../../bench/sim/simulate.ts';
import type { Booking, BookingStatus } from '../../../dispatch/booking-types.ts';

const OPTIONS = resolveSimulationOptions({
  minutes: 30,
  doctors: 40,
  bookingsPerHour: 150,
  emergencyShare: 0.2,
  seed: 11,
  drainMinutes: 20,
  detectors: 30,
  declineShare: 0.1,
  cancelShare: 0.15,
});

/** What must come out the same for the same seed: everything but ids and wall-clock figures. */
function comparable(run: RunResult): unknown {
  return {
    summaries: summariseRun(run.accounts),
    accounts: run.accounts.map(({ id: _id, ...account }) => account),
    phones: run.figures.phones,
    events: run.figures.events,
    simulatedMinutes: run.figures.simulatedMinutes,
  };
}

describe('dispatch simulation', () => {
  let simulation: Simulation;
  let repeated: Simulation;
  const scheduled = buildScenario(OPTIONS).bookings.length;

  beforeAll(async () => {
    simulation = await simulate(OPTIONS);
    repeated = await simulate({ ...OPTIONS, matching: ['batched'] });
  });

  it('runs both matchers on the same scenario and exercises the whole lifecycle', () => {
    expect(simulation.runs.map((run) => run.figures.matching)).toEqual(['batched', 'greedy']);
    expect(simulation.bookings).toBe(scheduled);
    expect(scheduled).toBeGreaterThan(50);
    for (const run of simulation.runs) {
      const all = summariseRun(run.accounts).at(-1)!;
      expect(all.completed).toBeGreaterThan(0);
      expect(all.arrived).toBeGreaterThan(all.completed);
      expect(all.noDoctor).toBeGreaterThan(0);
      expect(all.cancelled).toBeGreaterThan(0);
      expect(all.active).toBeGreaterThan(0);
      expect(run.figures.phones.declined).toBeGreaterThan(0);
      expect(run.figures.events).toBeGreaterThan(scheduled);
    }
  });

  it('accounts for every booking: completed + cancelled + no doctor + still active = created = stored', () => {
    for (const run of simulation.runs) {
      const all = summariseRun(run.accounts).at(-1)!;
      expect(all.completed + all.cancelled + all.noDoctor + all.active).toBe(all.bookings);
      expect(all.bookings).toBe(scheduled);
      expect(run.figures.storedBookings).toBe(scheduled);
      expect(run.accounts.map((account) => account.index)).toEqual([...Array(scheduled).keys()]);
      // The ledger's statuses are those read back from the store.
      expect(run.figures.anomalies).toBe(0);
    }
  });

  it('leaves look-ahead and rematching to batched matching: greedy stays nearest-first', () => {
    const [batched, greedy] = simulation.runs.map((run) => summariseRun(run.accounts).at(-1)!);
    expect(greedy).toMatchObject({ lookAheadOffered: 0, rematched: 0 });
    // The crowded city gives batched matching doctors coming free near bookings whose doctor is far.
    expect(batched!.rematched).toBeGreaterThan(0);
    for (const run of simulation.runs) {
      for (const account of run.accounts.filter((a) => a.rematched)) {
        expect(account.researches).toBeGreaterThan(0);
      }
    }
  });

  it('never lets two bookings hold one doctor', () => {
    for (const run of simulation.runs) expect(run.figures.doubleHoldings).toBe(0);
  });

  it('has no negative times and keeps each booking in lifecycle order', () => {
    for (const run of simulation.runs) {
      for (const account of run.accounts) {
        const { createdAt, firstAssignedAt, arrivedAt, completedAt } = account;
        if (firstAssignedAt !== undefined) expect(firstAssignedAt).toBeGreaterThanOrEqual(createdAt);
        if (arrivedAt !== undefined) expect(arrivedAt).toBeGreaterThanOrEqual(firstAssignedAt ?? Infinity);
        if (completedAt !== undefined) expect(completedAt).toBeGreaterThanOrEqual(arrivedAt ?? Infinity);
      }
      for (const summary of summariseRun(run.accounts)) {
        for (const value of [summary.assignP50, summary.assignP90, summary.arriveP50, summary.arriveP90]) {
          if (value !== null) expect(value).toBeGreaterThanOrEqual(0);
        }
        if (summary.withinTarget !== null) expect(summary.withinTarget).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('gives the same report for the same seed', () => {
    expect(comparable(repeated.runs[0]!)).toEqual(comparable(simulation.runs[0]!));
  });
});

describe('BookingLedger', () => {
  const at = Date.UTC(2026, 2, 2, 7, 0);
  const booking = (id: string, status: BookingStatus, doctorId?: string): Booking => ({
    id,
    patientId: 'patient-1',
    callType: 'home_visit',
    symptoms: 'fever',
    address: 'simulated address #1',
    lat: 55.75,
    lng: 37.6,
    priority: 4,
    originalPriority: 4,
    emergency: false,
    status,
    declinedBy: [],
    estimatedPrice: 2500,
    estimatedDurationMinutes: 45,
    createdAt: at,
    version: 1,
    ...(doctorId === undefined ? {} : { doctorId }),
  });
  const change = (id: string, from: BookingStatus, to: BookingStatus, doctorId?: string) => ({
    booking: booking(id, to, doctorId),
    update: { bookingId: id, from, to, by: { id: 'system', role: 'system' as const }, at },
  });

  it('reports a doctor held by two bookings at once, and not one handed from a booking to the next', () => {
    const ledger = new BookingLedger();
    ledger.record(change('a', 'searching', 'offered', 'doc-1'));
    ledger.record(change('a', 'offered', 'searching'));
    ledger.record(change('b', 'searching', 'offered', 'doc-1'));
    expect(ledger.doubleHoldings).toEqual([]);
    ledger.record(change('c', 'searching', 'offered', 'doc-1'));
    expect(ledger.doubleHoldings).toEqual([{ doctorId: 'doc-1', bookingIds: ['b', 'c'], at }]);
  });

  it('counts a change recorded after a final status as an anomaly', () => {
    const ledger = new BookingLedger();
    ledger.record(change('a', 'in_progress', 'completed'));
    ledger.record(change('a', 'completed', 'searching'));
    expect(ledger.anomalies).toHaveLength(1);
    const account: BookingAccount | undefined = ledger.accounts.get('a');
    expect(account?.status).toBe('searching');
  });
});
