import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyTransition } from '../../../dispatch/booking-lifecycle.ts';
import type { BookingRepository, BookingWrite } from '../../../dispatch/booking-repository.ts';
import { groupStatement } from '../../../dispatch/booking-group-sql.ts';
import { SqlBookingStore } from '../../../dispatch/booking-store.ts';
import type { Actor, Booking, BookingStatus, BookingStatusUpdate } from '../../../dispatch/booking-types.ts';
import { MemoryBookingStore } from '../../../dispatch/memory-booking-store.ts';
import { migrate } from '../../../engine/migrate.ts';
import type { Store } from '../../../engine/store.ts';
import { INSERT_WRITER_APPLICATION_NAME } from '../../../engine/store-postgres.ts';
import { TotError } from '../../../geo/errors.ts';
import { storeImplementations } from '../../support/stores.ts';

const SYSTEM: Actor = { id: 'system', role: 'system' };
const base = Date.UTC(2026, 10, 23, 9, 0, 0, 123);

/** The memory store and every SQL store, each behind the same repository interface. */
const implementations: [string, () => Promise<{ repository: BookingRepository; sql?: Store }>][] = [
  ['memory', async () => ({ repository: new MemoryBookingStore() })],
  ...storeImplementations.map(
    ([name, open]): [string, () => Promise<{ repository: BookingRepository; sql?: Store }>] => [
      name,
      async () => {
        const sql = await open();
        await migrate(sql);
        // One statement at a time, so that writes issued together are sure to be grouped.
        return { repository: new SqlBookingStore(sql, { maxInFlight: 1 }), sql };
      },
    ],
  ),
];

describe.each(implementations)('booking store: %s', (_name, open) => {
  let repository: BookingRepository;
  let sql: Store | undefined;
  const tag = `t${process.pid}x${Math.floor(Math.random() * 1e9)}`;
  const patient = (name: string) => `${name}.${tag}`;
  const doctor = (name: string) => `${name}.${tag}`;
  let clock = base;

  beforeAll(async () => {
    ({ repository, sql } = await open());
  });
  afterAll(async () => {
    if (!sql) return;
    await sql.query('DELETE FROM booking.bookings WHERE patient_id LIKE $1', [`%.${tag}`]);
    await sql.query('DELETE FROM notification.notifications WHERE recipient LIKE $1', [`%.${tag}`]);
    await sql.close();
  });

  function creation(booking: Booking): BookingStatusUpdate {
    return { bookingId: booking.id, from: null, to: 'created', by: SYSTEM, at: booking.createdAt };
  }

  async function created(overrides: Partial<Booking> = {}): Promise<Booking> {
    clock += 1_000;
    const booking = newBooking(overrides);
    await repository.create(booking, [creation(booking)]);
    return booking;
  }

  function newBooking(overrides: Partial<Booking> = {}): Booking {
    const booking: Booking = {
      id: randomUUID(),
      patientId: patient('ann'),
      callType: 'home_visit',
      symptoms: 'fever, 38.5',
      address: 'Tverskaya 7, flat 12',
      lat: 55.757_123_456,
      lng: 37.615_987_654,
      priority: 4,
      originalPriority: 4,
      emergency: false,
      status: 'created',
      declinedBy: [],
      estimatedPrice: 3_180.5,
      estimatedDurationMinutes: 40,
      createdAt: clock,
      version: 1,
      ...overrides,
    };
    return booking;
  }

  function step(
    before: Booking,
    to: BookingStatus,
    changes: Parameters<typeof applyTransition>[3] = {},
  ): BookingWrite {
    clock += 1_000;
    const after = applyTransition(before, to, clock, changes);
    const update: BookingStatusUpdate = {
      bookingId: before.id,
      from: before.status,
      to,
      by: SYSTEM,
      at: clock,
    };
    if (after.doctorId !== undefined) update.doctorId = after.doctorId;
    return { before, after, update };
  }

  async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
    try {
      await promise;
    } catch (error) {
      return error instanceof TotError ? error.code : `untyped: ${String(error)}`;
    }
    return undefined;
  }

  it('keeps every field of a booking, times to the millisecond, and records its first update', async () => {
    const booking = await created({
      specialization: 'pediatrics',
      scheduledAt: base + 86_400_007,
    });
    expect(await repository.get(booking.id)).toEqual(booking);
    const full = step(step(booking, 'searching').after, 'offered', {
      doctorId: doctor('d-full'),
      offerExpiresAt: clock + 20_001,
      declinedBy: [doctor('x'), doctor('y')],
    });
    await repository.commit([
      step(booking, 'searching'),
      { ...full, before: { ...full.before, version: 2 } },
    ]);
    expect(await repository.get(booking.id)).toEqual(full.after);
    const history = await repository.history(booking.id);
    expect(history.map((update) => [update.from, update.to])).toEqual([
      [null, 'created'],
      ['created', 'searching'],
      ['searching', 'offered'],
    ]);
    expect(history[2]).toMatchObject({ doctorId: doctor('d-full'), by: SYSTEM });
    expect(await codeOf(repository.get(randomUUID()))).toBe('DISPATCH_BOOKING_NOT_FOUND');
    expect(await codeOf(repository.get('not-a-uuid'))).toBe('DISPATCH_BOOKING_NOT_FOUND');
    expect(await codeOf(repository.history(randomUUID()))).toBe('DISPATCH_BOOKING_NOT_FOUND');
  });

  it('gives the latest completed visits with their durations, newest first', async () => {
    // Completed in the far future, so that they are the newest whatever else the shared database holds.
    const future = base + 10 * 365 * 86_400_000;
    /** A visit begun at `startAt`, completed `minutes` later (still under way when `minutes` is undefined). */
    async function visit(name: string, startAt: number, minutes: number | undefined) {
      let booking = await created({ callType: name === 'consult' ? 'consultation' : 'home_visit' });
      const steps: [BookingStatus, Parameters<typeof applyTransition>[3]][] = [
        ['searching', {}],
        ['offered', { doctorId: doctor(`v-${name}`), offerExpiresAt: clock + 20_000 }],
        ['assigned', {}],
        ['en_route', {}],
        ['arrived', {}],
      ];
      for (const [to, changes] of steps) {
        const write = step(booking, to, changes);
        await repository.commit([write]);
        booking = write.after;
      }
      clock = startAt - 1_000;
      const started = step(booking, 'in_progress');
      await repository.commit([started]);
      if (minutes === undefined) return;
      clock = startAt + minutes * 60_000 - 1_000;
      await repository.commit([step(started.after, 'completed')]);
    }
    await visit('first', future, 30);
    await visit('consult', future + 3_600_000, 45);
    await visit('under-way', future + 7_200_000, undefined);
    expect(await repository.recentVisits(2)).toEqual([
      { callType: 'consultation', durationMs: 45 * 60_000 },
      { callType: 'home_visit', durationMs: 30 * 60_000 },
    ]);
    expect(await repository.recentVisits(1)).toHaveLength(1);
    clock = base;
  });

  it('refuses a write based on a stale version, and a commit is all or nothing', async () => {
    const booking = await created();
    const searching = step(booking, 'searching');
    await repository.commit([searching]);
    // The same write again is based on version 1, which is gone.
    expect(await codeOf(repository.commit([searching]))).toBe('DISPATCH_INVALID_TRANSITION');
    const other = await created();
    const good = step(other, 'searching');
    const stale = step(booking, 'cancelled');
    expect(await codeOf(repository.commit([good, stale]))).toBe('DISPATCH_INVALID_TRANSITION');
    expect((await repository.get(other.id)).status).toBe('created');
    expect(await repository.history(other.id)).toHaveLength(1);
    expect(await repository.get(booking.id)).toEqual(searching.after);
  });

  it('refuses a second booking holding the same doctor, but lets one booking hand the doctor to another', async () => {
    const held = doctor('d-held');
    const first = await created();
    const firstSearching = step(first, 'searching');
    const firstOffered = step(firstSearching.after, 'offered', {
      doctorId: held,
      offerExpiresAt: clock + 20_000,
    });
    await repository.commit([firstSearching, firstOffered]);
    const second = await created({ patientId: patient('bob') });
    const secondSearching = step(second, 'searching');
    await repository.commit([secondSearching]);
    const clash = step(secondSearching.after, 'offered', { doctorId: held, offerExpiresAt: clock + 20_000 });
    expect(await codeOf(repository.commit([clash]))).toBe('DISPATCH_DOCTOR_UNAVAILABLE');
    expect((await repository.get(second.id)).status).toBe('searching');

    // Taken before it is let go, in one commit: refused row by row, as the unique index does; nothing changes.
    const released = step(firstOffered.after, 'searching');
    const taken = step(secondSearching.after, 'assigned', { doctorId: held });
    expect(await codeOf(repository.commit([taken, released]))).toBe('DISPATCH_DOCTOR_UNAVAILABLE');
    expect((await repository.get(first.id)).doctorId).toBe(held);
    // Let go, then taken, in one commit (a preemption): allowed.
    await repository.commit([released, taken]);
    expect((await repository.get(second.id)).doctorId).toBe(held);
    expect((await repository.get(first.id)).doctorId).toBeUndefined();

    if (sql) {
      // The database itself refuses, whatever the code does.
      const third = await created({ patientId: patient('cat') });
      const error = await sql
        .query(`UPDATE booking.bookings SET status = 'assigned', doctor_id = $2 WHERE id = $1`, [
          third.id,
          held,
        ])
        .then(
          () => undefined,
          (failure: unknown) => failure as { code?: string },
        );
      expect(error?.code).toBe('23505');
      const count = await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM booking.bookings
          WHERE doctor_id = $1 AND status IN ('offered', 'assigned', 'en_route', 'arrived', 'in_progress')`,
        [held],
      );
      expect(count.rows[0]?.n).toBe(1);
    }
  });

  it('writes issued together go out grouped, and each gets its own answer', async () => {
    const stats = () => (repository instanceof SqlBookingStore ? repository.writeStats() : undefined);
    const before = stats();
    const existing = await created();
    clock += 1_000;
    const fresh = Array.from({ length: 30 }, (_, i) =>
      newBooking({ patientId: patient(`group-${i}`), emergency: i % 7 === 0 }),
    );
    const outcomes = await Promise.all([
      ...fresh.map((booking) => codeOf(repository.create(booking, [creation(booking)]))),
      // The same id again: refused alone, the others still written.
      codeOf(repository.create({ ...existing }, [creation(existing)])),
    ]);
    expect(outcomes.slice(0, 30)).toEqual(Array(30).fill(undefined));
    expect(outcomes[30]).toMatch(/^untyped/);

    const holder = await created();
    const heldDoctor = doctor('d-group-held');
    const holderSearching = step(holder, 'searching');
    await repository.commit([
      holderSearching,
      step(holderSearching.after, 'offered', { doctorId: heldDoctor, offerExpiresAt: clock + 20_000 }),
    ]);
    const searching = fresh.map((booking) => step(booking, 'searching'));
    await Promise.all(searching.map((write) => repository.commit([write])));
    const offers = searching.map((write, i) =>
      step(write.after, 'offered', {
        doctorId: i === 5 ? heldDoctor : doctor(`d-group-${i}`),
        offerExpiresAt: clock + 20_000,
      }),
    );
    // Booking 9's offer is based on a version that is gone.
    const staleOffer = {
      ...(offers[9] as BookingWrite),
      before: { ...(offers[9] as BookingWrite).before, version: 1 },
    };
    const answers = await Promise.all(
      offers.map((write, i) => codeOf(repository.commit([i === 9 ? staleOffer : write]))),
    );
    answers.forEach((answer, i) => {
      expect(answer).toBe(
        i === 5 ? 'DISPATCH_DOCTOR_UNAVAILABLE' : i === 9 ? 'DISPATCH_INVALID_TRANSITION' : undefined,
      );
    });
    for (const [i, booking] of fresh.entries()) {
      const stored = await repository.get(booking.id);
      expect(stored.status).toBe(i === 5 || i === 9 ? 'searching' : 'offered');
      expect((await repository.history(booking.id)).map((update) => update.to)).toEqual(
        i === 5 || i === 9 ? ['created', 'searching'] : ['created', 'searching', 'offered'],
      );
    }
    const after = stats();
    if (before !== undefined && after !== undefined) {
      // 92 writes; grouped, they need far fewer statements than one each.
      const writes = after.writes - before.writes;
      expect(writes).toBeGreaterThanOrEqual(92);
      expect(after.statements - before.statements).toBeLessThan(writes / 2);
      // The repeated id and the held doctor sank their groups: those were split and retried.
      expect(after.retried - before.retried).toBeGreaterThanOrEqual(2);
    }
  });

  it('writes new bookings on the insert writer (PostgreSQL: its own connections) and changes on the pool', async () => {
    const booking = await created({ patientId: patient('routed') });
    const searching = step(booking, 'searching');
    await repository.commit([searching]);
    expect(await repository.get(booking.id)).toEqual(searching.after);
    if (sql?.kind !== 'postgres') return;
    // Each backend's last statement: the insert writer's connections run the grouped inserts and nothing else.
    const backends = await sql.query<{ query: string }>(
      `SELECT query FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
      [INSERT_WRITER_APPLICATION_NAME],
    );
    expect(backends.rows.length).toBeGreaterThan(0);
    // (pg_stat_activity keeps the first kilobyte of a statement.)
    const inserts = groupStatement('create', []).text;
    for (const { query } of backends.rows) {
      expect(query).toMatch(/^WITH written AS \(\s+INSERT INTO booking\.bookings/);
      expect(inserts.startsWith(query)).toBe(true);
    }
  });

  it('lists by patient, doctor and status, newest first, with keyset paging', async () => {
    const who = patient('dora');
    const bookings: Booking[] = [];
    for (let i = 0; i < 5; i++) bookings.push(await created({ patientId: who }));
    const withDoctor = step(step(bookings[1] as Booking, 'searching').after, 'assigned', {
      doctorId: doctor('d-list'),
    });
    await repository.commit([
      step(bookings[1] as Booking, 'searching'),
      { ...withDoctor, before: { ...withDoctor.before, version: 2 } },
    ]);
    const all = await repository.list({ patientId: who });
    expect(all.map((booking) => booking.id)).toEqual(bookings.map((booking) => booking.id).reverse());
    const page1 = await repository.list({ patientId: who, limit: 2 });
    const page2 = await repository.list({ patientId: who, limit: 2, after: page1.at(-1)?.id as string });
    const page3 = await repository.list({ patientId: who, limit: 2, after: page2.at(-1)?.id as string });
    expect([...page1, ...page2, ...page3].map((booking) => booking.id)).toEqual(
      all.map((booking) => booking.id),
    );
    expect((await repository.list({ doctorId: doctor('d-list') })).map((booking) => booking.id)).toEqual([
      bookings[1]?.id,
    ]);
    expect(
      (await repository.list({ patientId: who, status: ['assigned'] })).map((booking) => booking.id),
    ).toEqual([bookings[1]?.id]);
    expect(await codeOf(repository.list({ limit: 0 }))).toBe('DISPATCH_INVALID_BOOKING');
    expect(await codeOf(repository.list({ limit: 501 }))).toBe('DISPATCH_INVALID_BOOKING');
    expect(await codeOf(repository.list({ after: randomUUID() }))).toBe('DISPATCH_BOOKING_NOT_FOUND');
  });

  it('loads the active bookings with their marks, and keeps notifications', async () => {
    const active = await created({ patientId: patient('eve') });
    const done = await created({ patientId: patient('eve') });
    await repository.commit([step(done, 'cancelled', { cancelReason: 'test' })]);
    await repository.mark(active.id, 'slaBreachedAt', base + 5_000);
    await repository.mark(active.id, 'escalatedAt', base + 6_000, {
      recipient: patient('services'),
      kind: 'emergency_escalated',
      bookingId: active.id,
      payload: { reason: 'test', nested: { a: [1, 2] } },
      createdAt: base + 6_000,
    });
    await repository.insertNotification({
      recipient: patient('eve'),
      kind: 'booking_preempted',
      bookingId: active.id,
      payload: { newPriority: 3 },
      createdAt: base + 7_000,
    });
    const rows = (await repository.loadActive()).filter((row) => row.booking.patientId === patient('eve'));
    expect(rows.map((row) => row.booking.id)).toEqual([active.id]);
    expect(rows[0]?.marks).toEqual({ slaBreachedAt: base + 5_000, escalatedAt: base + 6_000 });
    expect(await repository.notifications({ recipient: patient('services') })).toEqual([
      expect.objectContaining({
        kind: 'emergency_escalated',
        bookingId: active.id,
        payload: { reason: 'test', nested: { a: [1, 2] } },
        createdAt: base + 6_000,
      }),
    ]);
    expect((await repository.notifications({ bookingId: active.id })).map((note) => note.kind)).toEqual([
      'booking_preempted',
      'emergency_escalated',
    ]);
  });
});

/** A plan's nodes, depth first, as EXPLAIN (FORMAT JSON) gives them. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

describe.each(storeImplementations)('grouped booking writes on %s', (_name, open) => {
  let sql: Store;
  const patientId = `plan.t${process.pid}x${Math.floor(Math.random() * 1e9)}`;

  beforeAll(async () => {
    sql = await open();
    await migrate(sql);
  });
  afterAll(async () => {
    await sql.query('DELETE FROM booking.bookings WHERE patient_id = $1', [patientId]);
    await sql.close();
  });

  it('changes a booking by probing its id, not by reading the whole table', async () => {
    // A few thousand bookings: against the planner's default guess of 100 rows from a set-returning function, a
    // table this size is cheaper to read whole than to probe a hundred times.
    const store = new SqlBookingStore(sql);
    const bookings = Array.from({ length: 3_000 }, (_, i): Booking => ({
      id: randomUUID(),
      patientId,
      callType: 'home_visit',
      symptoms: 'fever',
      address: `Plan street ${i}`,
      lat: 55.75,
      lng: 37.61,
      priority: 4,
      originalPriority: 4,
      emergency: false,
      status: 'created',
      declinedBy: [],
      estimatedPrice: 3_000,
      estimatedDurationMinutes: 40,
      createdAt: base + i,
      version: 1,
    }));
    for (let i = 0; i < bookings.length; i += 250) {
      await Promise.all(
        bookings
          .slice(i, i + 250)
          .map((booking) =>
            store.create(booking, [
              { bookingId: booking.id, from: null, to: 'created', by: SYSTEM, at: booking.createdAt },
            ]),
          ),
      );
    }
    const before = bookings[1_234] as Booking;
    const after = applyTransition(before, 'searching', base + 10_000);
    const { text, values } = groupStatement('change', [
      {
        kind: 'change',
        bookingId: before.id,
        doctorIds: [],
        urgent: false,
        expectedVersion: before.version,
        after,
        updates: [{ bookingId: before.id, from: 'created', to: 'searching', by: SYSTEM, at: base + 10_000 }],
      },
    ]);
    const explained = await sql.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(
      `EXPLAIN (FORMAT JSON) ${text}`,
      values,
    );
    const cell = explained.rows[0]?.['QUERY PLAN'];
    const plan = (typeof cell === 'string' ? JSON.parse(cell) : cell) as [{ Plan: PlanNode }];
    const reads = planNodes(plan[0].Plan).filter(
      (node) => node['Relation Name'] === 'bookings' && node['Node Type'] !== 'ModifyTable',
    );
    expect(reads.map((node) => [node['Node Type'], node['Index Name']])).toEqual([
      ['Index Scan', 'bookings_pkey'],
    ]);
  });
});
