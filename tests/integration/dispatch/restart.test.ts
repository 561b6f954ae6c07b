import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InThreadAssignmentSolver } from '../../../dispatch/assignment.ts';
import type { Actor, BookingRequest } from '../../../dispatch/booking-types.ts';
import { Dispatcher } from '../../../dispatch/dispatcher.ts';
import { Fleet } from '../../../engine/fleet.ts';
import { migrate } from '../../../engine/migrate.ts';
import type { Store } from '../../../engine/store.ts';
import { TrafficField } from '../../../geo/traffic-field.ts';
import { storeImplementations } from '../../support/stores.ts';

const START = Date.UTC(2026, 10, 23, 9, 0, 0);
const KM_LAT = 1 / 111.195;

describe.each(storeImplementations)('a booking survives an engine restart: %s', (_name, open) => {
  let store: Store;
  const tag = `r${process.pid}x${Math.floor(Math.random() * 1e9)}`;
  const doctor = (name: string) => `${name}.${tag}`;
  const patient: Actor = { id: `patient.${tag}`, role: 'patient' };

  beforeAll(async () => {
    store = await open();
    await migrate(store);
  });
  afterAll(async () => {
    await store.query('DELETE FROM booking.bookings WHERE patient_id = $1', [patient.id]);
    await store.close();
  });

  /** The engine's live state: a fleet (possibly restored from snapshot bytes) and a traffic field at 36 km/h. */
  function liveState(fleet: Fleet) {
    return { fleet, traffic: new TrafficField({ freeFlowProfileKmh: new Array<number>(24).fill(36) }) };
  }

  function dispatcherOver(live: ReturnType<typeof liveState>, clock: () => number) {
    return new Dispatcher({ store, engine: live, solver: new InThreadAssignmentSolver(), clock });
  }

  function request(northKm: number): BookingRequest {
    return {
      patientId: patient.id,
      callType: 'home_visit',
      symptoms: 'cough',
      address: 'Arbat 10',
      lat: 55.75 + northKm * KM_LAT,
      lng: 37.62,
      priority: 4,
    };
  }

  /** No doctor is held by two bookings in the store, ever. */
  async function doublyHeld(): Promise<number> {
    const result = await store.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT doctor_id FROM booking.bookings
          WHERE status IN ('offered', 'assigned', 'en_route', 'arrived', 'in_progress') AND doctor_id IS NOT NULL
          GROUP BY doctor_id HAVING count(*) > 1) AS held`,
    );
    return result.rows[0]?.n ?? -1;
  }

  /** Doctors 1, 2 and 3 km north of the centre, named `<prefix>-first` … so that each test has its own. */
  function fleetWithDoctors(now: number, prefix: string): Fleet {
    const fleet = new Fleet({ offlineAfterMs: 3_600_000 });
    for (const [name, northKm] of [
      ['first', 1],
      ['second', 2],
      ['third', 3],
    ] as const) {
      fleet.register({ id: doctor(`${prefix}-${name}`) }, now);
      fleet.applyFix(
        { doctorId: doctor(`${prefix}-${name}`), lat: 55.75 + northKm * KM_LAT, lng: 37.62, ts: now },
        now,
      );
    }
    return fleet;
  }

  it('resumes the pending offer with its deadline; accepting it works; no doctor is held twice', async () => {
    let now = START;
    const clock = () => now;
    const fleet = fleetWithDoctors(now, 'a');
    // The snapshot the restarted engine will restore: taken before the offer, so the doctor shows available in it.
    const snapshot = fleet.toSnapshot();
    const before = dispatcherOver(liveState(fleet), clock);
    await before.restore();
    const booking = await before.create(request(0), patient);
    now += 1_000;
    await before.tick(now);
    const offered = await before.get(booking.id);
    expect(offered).toMatchObject({ status: 'offered', doctorId: doctor('a-first') });
    const deadline = offered.offerExpiresAt as number;
    expect(deadline).toBe(now + 20_000);
    await before.stop();

    // The engine restarts 5 s later: a new fleet from the old snapshot, a new dispatcher over the same store.
    now += 5_000;
    const live = liveState(Fleet.fromSnapshot(snapshot, { offlineAfterMs: 3_600_000 }));
    expect(live.fleet.get(doctor('a-first'))?.status).toBe('available');
    const after = dispatcherOver(live, clock);
    const summary = await after.restore();
    expect(summary).toMatchObject({ offers: 1, doctorsHeld: 1 });
    expect(live.fleet.get(doctor('a-first'))?.status).toBe('offered');
    expect(after.bookingOfDoctor(doctor('a-first'))?.id).toBe(booking.id);
    expect(after.active().find((active) => active.id === booking.id)?.offerExpiresAt).toBe(deadline);

    // The offer still stands at the next tick, and a new booking meanwhile gets another doctor.
    const other = await after.create(request(2.5), patient);
    now += 1_000;
    const tick = await after.tick(now);
    expect(tick.offersLapsed).toBe(0);
    expect((await after.get(booking.id)).status).toBe('offered');
    expect((await after.get(other.id)).doctorId).not.toBe(doctor('a-first'));
    expect(await doublyHeld()).toBe(0);

    const accepted = await after.accept(booking.id, doctor('a-first'), {
      id: doctor('a-first'),
      role: 'doctor',
    });
    expect(accepted).toMatchObject({ status: 'en_route', doctorId: doctor('a-first') });
    expect(live.fleet.get(doctor('a-first'))?.status).toBe('en_route');
    expect(await doublyHeld()).toBe(0);
    const history = await after.history(booking.id);
    expect(history.map((update) => update.to)).toEqual([
      'created',
      'searching',
      'offered',
      'assigned',
      'en_route',
    ]);
    await after.stop();
  });

  it('lapses at the first tick an offer whose deadline passed while the engine was down', async () => {
    let now = START + 3_600_000;
    const clock = () => now;
    const fleet = fleetWithDoctors(now, 'b');
    const snapshot = fleet.toSnapshot();
    const before = dispatcherOver(liveState(fleet), clock);
    await before.restore();
    const booking = await before.create(request(-5), patient);
    now += 1_000;
    await before.tick(now);
    const offeredTo = (await before.get(booking.id)).doctorId as string;
    await before.stop();

    now += 60_000;
    const live = liveState(Fleet.fromSnapshot(snapshot, { offlineAfterMs: 3_600_000 }));
    const after = dispatcherOver(live, clock);
    await after.restore();
    const tick = await after.tick(now);
    expect(tick.offersLapsed).toBe(1);
    const lapsed = await after.get(booking.id);
    expect(lapsed).toMatchObject({ status: 'searching', declinedBy: [offeredTo] });
    expect(live.fleet.get(offeredTo)?.status).toBe('available');
    now += 1_000;
    await after.tick(now);
    const reoffered = await after.get(booking.id);
    expect(reoffered.status).toBe('offered');
    expect(reoffered.doctorId).not.toBe(offeredTo);
    expect(await doublyHeld()).toBe(0);
    await after.stop();
  });
});
