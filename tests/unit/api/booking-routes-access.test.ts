import { describe, expect, it } from 'vitest';
import { auditRecorder } from '../../../api/auth/audit.ts';
import { VerifiedTokens } from '../../../api/auth/verified-tokens.ts';
import type { AuditEntry } from '../../../engine/audit-log.ts';
import { BOOKING_BODY, bookingFixture, fieldsOf, testTokens, USERS } from '../../support/booking-fixture.ts';

describe('who sees a booking', () => {
  it("answers another patient's booking exactly like a missing one (404), on every route", async () => {
    const { call, book, dispatch } = bookingFixture();
    const booking = await book('alice');
    for (const path of [`/v1/bookings/${booking.id}`, `/v1/bookings/${booking.id}/history`]) {
      const other = await call('bob', 'GET', path);
      const missing = await call('bob', 'GET', path.replace(booking.id, 'booking-404'));
      expect(other).toMatchObject({ status: 404, body: { code: 'DISPATCH_BOOKING_NOT_FOUND' } });
      expect(missing.body['detail']).toBe(String(other.body['detail']).replace(booking.id, 'booking-404'));
    }
    const cancel = await call('bob', 'POST', `/v1/bookings/${booking.id}/cancel`, { reason: 'not mine' });
    expect(cancel).toMatchObject({ status: 404, body: { code: 'DISPATCH_BOOKING_NOT_FOUND' } });
    expect((await dispatch.get(booking.id)).status).toBe('searching');
    expect(dispatch.callsOf('cancel')).toEqual([]);
  });

  it('shows it to its patient, the offered doctor, dispatchers and admins, and to nobody else', async () => {
    const { call, book, dispatch } = bookingFixture();
    const booking = await book('alice');
    dispatch.offerTo(booking.id, 'doc-1');
    const statuses = Object.fromEntries(
      await Promise.all(
        (['alice', 'bob', 'drOne', 'drTwo', 'drNoProfile', 'dispatcher', 'admin', 'clinic'] as const).map(
          async (user) => [user, (await call(user, 'GET', `/v1/bookings/${booking.id}`)).status] as const,
        ),
      ),
    );
    expect(statuses).toEqual({
      alice: 200,
      bob: 404,
      drOne: 200,
      drTwo: 404,
      drNoProfile: 404,
      dispatcher: 200,
      admin: 200,
      clinic: 404,
    });
    expect((await call(undefined, 'GET', `/v1/bookings/${booking.id}`)).status).toBe(401);
  });

  it('shows staff which doctors declined, and not the patient', async () => {
    const { call, book, dispatch } = bookingFixture();
    const booking = await book('alice');
    dispatch.offerTo(booking.id, 'doc-2');
    await call('drTwo', 'POST', `/v1/bookings/${booking.id}/decline`, { reason: 'too far' });
    const staff = await call('dispatcher', 'GET', `/v1/bookings/${booking.id}`);
    expect(staff.body['declinedBy']).toEqual(['doc-2']);
    const patient = await call('alice', 'GET', `/v1/bookings/${booking.id}`);
    expect(patient.body).not.toHaveProperty('declinedBy');
  });

  it('gives the history to whoever sees the booking', async () => {
    const { call, book } = bookingFixture();
    const booking = await book('alice');
    const reply = await call('alice', 'GET', `/v1/bookings/${booking.id}/history`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      bookingId: booking.id,
      updates: [
        { from: null, to: 'created' },
        { from: 'created', to: 'searching' },
      ],
    });
  });
});

describe('roles', () => {
  it('lets only patients book (403 for others, 401 without a token)', async () => {
    const { call, dispatch } = bookingFixture();
    for (const user of ['drOne', 'dispatcher', 'admin'] as const) {
      expect(await call(user, 'POST', '/v1/bookings', BOOKING_BODY)).toMatchObject({
        status: 403,
        body: { code: 'API_FORBIDDEN' },
      });
    }
    expect(await call(undefined, 'POST', '/v1/bookings', BOOKING_BODY)).toMatchObject({
      status: 401,
      body: { code: 'API_UNAUTHENTICATED' },
    });
    expect(dispatch.size).toBe(0);
  });

  it('refuses a patient the overrides with 403, before the body is read, calling nothing', async () => {
    const { call, book, dispatch } = bookingFixture();
    const booking = await book('alice');
    for (const [action, body] of [
      ['assign', { doctorId: 'doc-1' }],
      ['reassign', { reason: 'faster' }],
      ['priority', { priority: 1 }],
      ['assign', { doctorId: 'doc-1', status: 'completed' }],
    ] as const) {
      const reply = await call('alice', 'POST', `/v1/bookings/${booking.id}/${action}`, body);
      expect(reply).toMatchObject({ status: 403, body: { code: 'API_FORBIDDEN' } });
    }
    expect(dispatch.calls.filter((call) => call.method !== 'create')).toEqual([]);
  });

  it('lets a dispatcher assign, reassign and change the priority, passing the dispatcher’s refusals on', async () => {
    const { call, book, dispatch } = bookingFixture();
    const booking = await book('alice');
    dispatch.busyDoctors.add('doc-busy');
    expect(
      await call('dispatcher', 'POST', `/v1/bookings/${booking.id}/assign`, { doctorId: 'doc-busy' }),
    ).toMatchObject({ status: 409, body: { code: 'DISPATCH_DOCTOR_UNAVAILABLE' } });
    expect(
      await call('dispatcher', 'POST', `/v1/bookings/${booking.id}/assign`, { doctorId: 'doc-1' }),
    ).toMatchObject({ status: 200, body: { status: 'assigned', doctorId: 'doc-1' } });
    expect(await call('admin', 'POST', `/v1/bookings/${booking.id}/priority`, { priority: 2 })).toMatchObject(
      { status: 200, body: { priority: 2, emergency: true } },
    );
    expect(
      await call('dispatcher', 'POST', `/v1/bookings/${booking.id}/reassign`, { reason: 'closer doctor' }),
    ).toMatchObject({ status: 200, body: { status: 'searching' } });
    expect(dispatch.callsOf('reassign')[0]?.args).toEqual([
      booking.id,
      { id: USERS.dispatcher.userId, role: 'dispatcher' },
      'closer doctor',
    ]);
    expect(
      await call('dispatcher', 'POST', '/v1/bookings/booking-404/assign', { doctorId: 'doc-1' }),
    ).toMatchObject({ status: 404, body: { code: 'DISPATCH_BOOKING_NOT_FOUND' } });
  });
});

describe('doctor actions', () => {
  it("refuses a doctor accepting someone else's offer with the dispatcher's code, changing nothing", async () => {
    const { call, book, dispatch } = bookingFixture();
    const booking = await book('alice');
    dispatch.offerTo(booking.id, 'doc-1');
    const reply = await call('drTwo', 'POST', `/v1/bookings/${booking.id}/accept`);
    expect(reply).toMatchObject({ status: 409, body: { code: 'DISPATCH_OFFER_NOT_OPEN' } });
    expect(dispatch.callsOf('accept')[0]?.args.slice(0, 2)).toEqual([booking.id, 'doc-2']);
    expect(await dispatch.get(booking.id)).toMatchObject({ status: 'offered', doctorId: 'doc-1' });
  });

  it('acts as the profile linked to the user, never a doctor named by the client', async () => {
    const { call, book, dispatch } = bookingFixture();
    const booking = await book('alice');
    dispatch.offerTo(booking.id, 'doc-1');
    const accepted = await call('drOne', 'POST', `/v1/bookings/${booking.id}/accept`);
    expect(accepted).toMatchObject({ status: 200, body: { status: 'assigned', doctorId: 'doc-1' } });
    expect(dispatch.callsOf('accept')[0]?.args).toEqual([
      booking.id,
      'doc-1',
      { id: USERS.drOne.userId, role: 'doctor' },
    ]);
    dispatch.setOff(booking.id);
    for (const [action, status] of [
      ['arrived', 'arrived'],
      ['start', 'in_progress'],
      ['complete', 'completed'],
    ] as const) {
      const reply = await call('drOne', 'POST', `/v1/bookings/${booking.id}/${action}`, {});
      expect(reply).toMatchObject({ status: 200, body: { status } });
    }
  });

  it('refuses a doctor user without a profile (403) and other roles (403)', async () => {
    const { call, book, dispatch } = bookingFixture();
    const booking = await book('alice');
    dispatch.offerTo(booking.id, 'doc-1');
    const noProfile = await call('drNoProfile', 'POST', `/v1/bookings/${booking.id}/accept`);
    expect(noProfile).toMatchObject({ status: 403, body: { code: 'API_FORBIDDEN' } });
    const patient = await call('alice', 'POST', `/v1/bookings/${booking.id}/decline`);
    expect(patient).toMatchObject({ status: 403, body: { code: 'API_FORBIDDEN' } });
    expect(dispatch.callsOf('accept')).toEqual([]);
    expect(dispatch.callsOf('decline')).toEqual([]);
  });

  it('declines with or without a reason; the search goes on', async () => {
    const { call, book, dispatch } = bookingFixture();
    const first = await book('alice');
    dispatch.offerTo(first.id, 'doc-1');
    expect(await call('drOne', 'POST', `/v1/bookings/${first.id}/decline`)).toMatchObject({
      status: 200,
      body: { status: 'searching' },
    });
    const second = await book('bob');
    dispatch.offerTo(second.id, 'doc-1');
    await call('drOne', 'POST', `/v1/bookings/${second.id}/decline`, { reason: 'car broke down' });
    expect(dispatch.callsOf('decline').map((call) => call.args[3])).toEqual([undefined, 'car broke down']);
  });
});

describe('cancelling', () => {
  it('lets the owner cancel before the visit starts, with the reason recorded', async () => {
    const { call, book, dispatch } = bookingFixture();
    const booking = await book('alice');
    const reply = await call('alice', 'POST', `/v1/bookings/${booking.id}/cancel`, {
      reason: 'feeling better',
    });
    expect(reply).toMatchObject({
      status: 200,
      body: { status: 'cancelled', cancelReason: 'feeling better' },
    });
    expect(dispatch.callsOf('cancel')[0]?.args).toEqual([
      booking.id,
      { id: USERS.alice.userId, role: 'patient' },
      'feeling better',
    ]);
  });

  it("passes on the dispatcher's refusal once the visit started (409), and refuses doctors (403)", async () => {
    const { call, book, dispatch } = bookingFixture();
    const booking = await book('alice');
    await dispatch.assign(booking.id, 'doc-1', { id: 'system', role: 'system' });
    dispatch.setOff(booking.id);
    await dispatch.arrived(booking.id, 'doc-1', { id: 'system', role: 'system' });
    await dispatch.start(booking.id, 'doc-1', { id: 'system', role: 'system' });
    expect(
      await call('alice', 'POST', `/v1/bookings/${booking.id}/cancel`, { reason: 'changed my mind' }),
    ).toMatchObject({ status: 409, body: { code: 'DISPATCH_INVALID_TRANSITION' } });
    expect(await call('drOne', 'POST', `/v1/bookings/${booking.id}/cancel`, { reason: 'no' })).toMatchObject({
      status: 403,
    });
    expect((await dispatch.get(booking.id)).status).toBe('in_progress');
  });

  it('lets a dispatcher cancel anyone’s booking', async () => {
    const { call, book } = bookingFixture();
    const booking = await book('bob');
    expect(
      await call('dispatcher', 'POST', `/v1/bookings/${booking.id}/cancel`, { reason: 'duplicate' }),
    ).toMatchObject({ status: 200, body: { status: 'cancelled' } });
  });
});

describe('GET /v1/bookings', () => {
  it('gives a patient their own bookings only, and refuses their filters by patient or doctor', async () => {
    const { call, book, dispatch } = bookingFixture();
    await book('alice');
    await book('bob');
    await book('alice');
    const own = await call('alice', 'GET', '/v1/bookings');
    expect((own.body['bookings'] as { patientId: string }[]).map((b) => b.patientId)).toEqual([
      USERS.alice.userId,
      USERS.alice.userId,
    ]);
    const probing = await call('alice', 'GET', `/v1/bookings?patientId=${USERS.bob.userId}`);
    expect(probing).toMatchObject({ status: 403, body: { code: 'API_FORBIDDEN' } });
    expect(fieldsOf(probing.body)).toEqual(['query.patientId']);
    expect(dispatch.callsOf('list').map((call) => call.args[0])).toEqual([
      { limit: 50, patientId: USERS.alice.userId },
    ]);
  });

  it('gives a doctor the bookings held for their profile, and nothing without one', async () => {
    const { call, book, dispatch } = bookingFixture();
    const mine = await book('alice');
    await book('bob');
    dispatch.offerTo(mine.id, 'doc-1');
    const doctor = await call('drOne', 'GET', '/v1/bookings');
    expect((doctor.body['bookings'] as { id: string }[]).map((b) => b.id)).toEqual([mine.id]);
    const none = await call('drNoProfile', 'GET', '/v1/bookings');
    expect(none).toMatchObject({ status: 200, body: { bookings: [] } });
    expect(await call('clinic', 'GET', '/v1/bookings')).toMatchObject({ status: 403 });
  });

  it('gives staff every booking with filters, paged by keyset', async () => {
    const { call, book, dispatch } = bookingFixture();
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await book(i % 2 === 0 ? 'alice' : 'bob'));
    dispatch.offerTo(made[1]!.id, 'doc-2');
    const newestFirst = made.map((booking) => booking.id).reverse();

    const first = await call('dispatcher', 'GET', '/v1/bookings?limit=2');
    expect((first.body['bookings'] as { id: string }[]).map((b) => b.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.body['next']).toBe(newestFirst[1]);
    const second = await call(
      'dispatcher',
      'GET',
      `/v1/bookings?limit=2&after=${String(first.body['next'])}`,
    );
    expect((second.body['bookings'] as { id: string }[]).map((b) => b.id)).toEqual(newestFirst.slice(2, 4));
    const last = await call('dispatcher', 'GET', `/v1/bookings?limit=2&after=${String(second.body['next'])}`);
    expect((last.body['bookings'] as { id: string }[]).map((b) => b.id)).toEqual(newestFirst.slice(4));
    expect(last.body).not.toHaveProperty('next');

    const filtered = await call('admin', 'GET', `/v1/bookings?status=offered&doctorId=doc-2`);
    expect((filtered.body['bookings'] as { id: string }[]).map((b) => b.id)).toEqual([made[1]!.id]);
    const byPatient = await call(
      'admin',
      'GET',
      `/v1/bookings?patientId=${USERS.bob.userId}&status=searching`,
    );
    expect((byPatient.body['bookings'] as { id: string }[]).map((b) => b.id)).toEqual([made[3]!.id]);
  });
});

describe('price estimate and audit', () => {
  it('quotes any signed-in user, and nobody without a token', async () => {
    const { call } = bookingFixture();
    const body = { callType: 'home_visit', lat: 55.75, lng: 37.61, priority: 4 };
    for (const user of ['alice', 'drOne', 'dispatcher'] as const) {
      expect(await call(user, 'POST', '/v1/bookings/estimate', body)).toMatchObject({
        status: 200,
        body: { price: 2500, currency: 'RUB' },
      });
    }
    expect((await call(undefined, 'POST', '/v1/bookings/estimate', body)).status).toBe(401);
  });

  it('answers a booking with 201 and its id, which the audit records as the target', async () => {
    const { call, tokenOf } = bookingFixture();
    const reply = await call('alice', 'POST', '/v1/bookings', BOOKING_BODY);
    const entries: AuditEntry[] = [];
    await auditRecorder(
      new VerifiedTokens(testTokens()),
      (entry) => entries.push(entry),
      () => 1,
    )({
      method: 'POST',
      path: '/v1/bookings',
      headers: { authorization: `Bearer ${await tokenOf('alice')}` },
      remoteAddress: '127.0.0.1',
      params: {},
      status: reply.status,
      body: reply.body,
    });
    expect(entries).toEqual([
      expect.objectContaining({ userId: USERS.alice.userId, role: 'patient', target: reply.body['id'] }),
    ]);
  });
});
