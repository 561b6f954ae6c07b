import { describe, expect, it } from 'vitest';
import { BOOKING_BODY, bookingFixture, fieldsOf, USERS } from '../../support/booking-fixture.ts';

describe('POST /v1/bookings validation', () => {
  it('books for the caller: 201 with the booking searching, the patient id taken from the token', async () => {
    const { call, dispatch } = bookingFixture();
    const reply = await call('alice', 'POST', '/v1/bookings', BOOKING_BODY);
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ ...BOOKING_BODY, patientId: USERS.alice.userId, status: 'searching' });
    expect(reply.body).not.toHaveProperty('declinedBy');
    expect(dispatch.callsOf('create')).toEqual([
      {
        method: 'create',
        args: [
          { ...BOOKING_BODY, patientId: USERS.alice.userId },
          { id: USERS.alice.userId, role: 'patient' },
        ],
      },
    ]);
  });

  it('takes an emergency with its emergency type, a specialization and a visit booked ahead', async () => {
    const { call } = bookingFixture();
    const body = {
      ...BOOKING_BODY,
      callType: 'emergency',
      priority: 1,
      emergencyType: 'cardiac',
      specialization: 'cardiology',
      scheduledAt: Date.UTC(2026, 10, 23, 9),
    };
    const reply = await call('alice', 'POST', '/v1/bookings', body);
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ ...body, emergency: true });
  });

  it.each([
    ['callType', { callType: 'teleport' }],
    ['symptoms', { symptoms: '   ' }],
    ['symptoms', { symptoms: 'x'.repeat(2001) }],
    ['address', { address: undefined }],
    ['lat', { lat: 91 }],
    ['lng', { lng: '37.6' }],
    ['priority', { priority: 0 }],
    ['priority', { priority: 5 }],
    ['priority', { priority: 2.5 }],
    ['priority', { priority: undefined }],
    ['specialization', { specialization: '' }],
    ['scheduledAt', { scheduledAt: -1 }],
    ['emergencyType', { emergencyType: 'cardiac', priority: 3 }],
  ])('refuses a bad %s (%j) naming it, creating nothing', async (field, change) => {
    const { call, dispatch } = bookingFixture();
    const reply = await call('alice', 'POST', '/v1/bookings', { ...BOOKING_BODY, ...change });
    expect(reply.status).toBe(400);
    expect(reply.body['code']).toBe('API_VALIDATION_FAILED');
    expect(fieldsOf(reply.body)).toEqual([`body.${field}`]);
    expect(dispatch.size).toBe(0);
    expect(dispatch.callsOf('create')).toEqual([]);
  });

  it('names every bad field of one body', async () => {
    const { call, dispatch } = bookingFixture();
    const reply = await call('alice', 'POST', '/v1/bookings', { ...BOOKING_BODY, lat: 'north', priority: 9 });
    expect(fieldsOf(reply.body).sort()).toEqual(['body.lat', 'body.priority']);
    expect(dispatch.size).toBe(0);
  });

  it('refuses a missing body naming it', async () => {
    const { call, dispatch } = bookingFixture();
    const reply = await call('alice', 'POST', '/v1/bookings');
    expect(reply).toMatchObject({ status: 400, body: { code: 'API_VALIDATION_FAILED' } });
    expect(fieldsOf(reply.body)).toEqual(['body']);
    expect(dispatch.size).toBe(0);
  });

  it.each([
    ['patientId', USERS.bob.userId],
    ['status', 'completed'],
    ['doctorId', 'doc-1'],
    ['id', 'booking-999'],
    ['declinedBy', []],
    ['estimatedPrice', 1],
  ])('refuses mass assignment of %s with 400 naming body.%s, creating nothing', async (field, value) => {
    const { call, dispatch } = bookingFixture();
    const reply = await call('alice', 'POST', '/v1/bookings', { ...BOOKING_BODY, [field]: value });
    expect(reply).toMatchObject({ status: 400, body: { code: 'API_VALIDATION_FAILED' } });
    expect(fieldsOf(reply.body)).toEqual([`body.${field}`]);
    expect(dispatch.size).toBe(0);
  });
});

describe('bodies of the other booking routes', () => {
  it('refuses mass assignment on the doctor actions and the overrides, changing nothing', async () => {
    const { call, book, dispatch } = bookingFixture();
    const booking = await book('alice');
    dispatch.offerTo(booking.id, 'doc-1');
    const accept = await call('drOne', 'POST', `/v1/bookings/${booking.id}/accept`, { doctorId: 'doc-2' });
    expect(accept.status).toBe(400);
    expect(fieldsOf(accept.body)).toEqual(['body.doctorId']);
    const assign = await call('dispatcher', 'POST', `/v1/bookings/${booking.id}/assign`, {
      doctorId: 'doc-2',
      status: 'completed',
    });
    expect(assign.status).toBe(400);
    expect(fieldsOf(assign.body)).toEqual(['body.status']);
    const priority = await call('dispatcher', 'POST', `/v1/bookings/${booking.id}/priority`, { priority: 7 });
    expect(fieldsOf(priority.body)).toEqual(['body.priority']);
    expect((await dispatch.get(booking.id)).status).toBe('offered');
    expect(dispatch.callsOf('accept')).toEqual([]);
    expect(dispatch.callsOf('assign')).toEqual([]);
    expect(dispatch.callsOf('changePriority')).toEqual([]);
  });

  it('needs a reason to cancel and to reassign', async () => {
    const { call, book, dispatch } = bookingFixture();
    const booking = await book('alice');
    const cancel = await call('alice', 'POST', `/v1/bookings/${booking.id}/cancel`, {});
    expect(fieldsOf(cancel.body)).toEqual(['body.reason']);
    const reassign = await call('dispatcher', 'POST', `/v1/bookings/${booking.id}/reassign`, { reason: '' });
    expect(fieldsOf(reassign.body)).toEqual(['body.reason']);
    expect((await dispatch.get(booking.id)).status).toBe('searching');
  });

  it('checks the list filters and the estimate', async () => {
    const { call } = bookingFixture();
    const list = await call('dispatcher', 'GET', '/v1/bookings?status=searching,lost&limit=0');
    expect(list.status).toBe(400);
    expect(fieldsOf(list.body).sort()).toEqual(['query.limit', 'query.status']);
    const estimate = await call('bob', 'POST', '/v1/bookings/estimate', { ...BOOKING_BODY });
    expect(estimate.status).toBe(400);
    expect(fieldsOf(estimate.body).sort()).toEqual(['body.address', 'body.symptoms']);
  });
});
