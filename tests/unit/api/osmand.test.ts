import { describe, expect, it } from 'vitest';
import {
  MPS_PER_KNOT,
  osmandParameters,
  osmandReportOf,
  timestampOf,
  traccarJsonReportOf,
} from '../../../api/gateway/osmand.ts';
import { TotError } from '../../../geo/errors.ts';
import { NOW } from '../../support/gateway-fixture.ts';

const report = (query: string, form?: string) =>
  osmandReportOf(
    osmandParameters(new URLSearchParams(query), form === undefined ? undefined : new URLSearchParams(form)),
    NOW,
  );

function fieldsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (!(error instanceof TotError)) throw error;
    expect(error.code).toBe('API_VALIDATION_FAILED');
    return (error.details['errors'] as { field: string }[]).map((e) => e.field);
  }
  throw new Error('expected a validation error');
}

describe('timestampOf', () => {
  it.each([
    ['1795338000', 1_795_338_000_000],
    ['1795338000.25', 1_795_338_000_250],
    ['1795338000123', 1_795_338_000_123],
    ['2026-11-22T09:00:00Z', Date.UTC(2026, 10, 22, 9)],
    ['2026-11-22T12:00:00.500+03:00', Date.UTC(2026, 10, 22, 9, 0, 0, 500)],
    ['2026-11-22T12:00:00+0300', Date.UTC(2026, 10, 22, 9)],
  ])('reads %s as %d ms (seconds below 2^31 − 1, milliseconds above, ISO 8601 with a zone)', (text, ms) => {
    expect(timestampOf(text)).toBe(ms);
  });

  it.each(['', 'abc', '2026-11-22T09:00:00', '2026-11-22 09:00:00', '-5', '0', '1e9'])(
    'refuses %j',
    (text) => {
      expect(timestampOf(text)).toBeUndefined();
    },
  );
});

describe('osmandReportOf', () => {
  it("reads Traccar Client's parameters into stream units: knots to m/s, seconds to ms", () => {
    const parsed = report(
      'id=phone-1&lat=55.75&lon=37.61&timestamp=1795338000&speed=10&bearing=90.5&altitude=150&accuracy=12&batt=87.0&token=t',
    );
    expect(parsed.deviceId).toBe('phone-1');
    expect(parsed.token).toBe('t');
    expect(parsed.fix).toEqual({
      lat: 55.75,
      lng: 37.61,
      ts: 1_795_338_000_000,
      speed: 10 * MPS_PER_KNOT,
      heading: 90.5,
      accuracy: 12,
      battery: 87,
    });
    expect(parsed.fix['speed']).toBeCloseTo(5.1444, 4);
    expect(parsed.fieldNames).toMatchObject({
      lng: 'query.lon',
      heading: 'query.bearing',
      battery: 'query.batt',
      ts: 'query.timestamp',
    });
  });

  it('takes deviceid and heading as aliases, the time of arrival when timestamp is absent, and form values over query', () => {
    const parsed = report('deviceid=phone-2&lat=1&lon=2&heading=10', 'lat=3');
    expect(parsed).toMatchObject({ deviceId: 'phone-2', fix: { lat: 3, lng: 2, heading: 10, ts: NOW } });
    expect(parsed.fieldNames['lat']).toBe('form.lat');
  });

  it('leaves out the negative values iOS clients send for unknown speed, course, accuracy and battery', () => {
    expect(report('id=a&lat=1&lon=2&speed=-1&bearing=-1&accuracy=-1&batt=-100').fix).toEqual({
      lat: 1,
      lng: 2,
      ts: NOW,
    });
  });

  it('names each missing or malformed parameter', () => {
    expect(fieldsOf(() => report('lat=abc&timestamp=yesterday&altitude=high'))).toEqual([
      'query.id',
      'query.lat',
      'query.lon',
      'query.altitude',
      'query.timestamp',
    ]);
    expect(fieldsOf(() => report('id=a&lat=1', 'lon=NaN'))).toEqual(['form.lon']);
  });
});

describe('traccarJsonReportOf', () => {
  const body = {
    device_id: 'phone-1',
    location: {
      timestamp: '2026-11-22T08:59:00.000Z',
      coords: { latitude: 55.75, longitude: 37.61, accuracy: 5, speed: 4.2, heading: 270, altitude: 140 },
      battery: { level: 0.85, is_charging: false },
      is_moving: true,
    },
  };

  it('reads the JSON protocol: speed already in m/s, battery level as a fraction', () => {
    expect(traccarJsonReportOf(body, NOW)).toEqual({
      deviceId: 'phone-1',
      fix: { lat: 55.75, lng: 37.61, accuracy: 5, speed: 4.2, heading: 270, battery: 85, ts: NOW - 60_000 },
    });
  });

  it('names the fields at fault', () => {
    expect(fieldsOf(() => traccarJsonReportOf({ location: { coords: { latitude: '55' } } }, NOW))).toEqual([
      'body.device_id',
      'body.location.coords.latitude',
      'body.location.coords.longitude',
    ]);
    expect(fieldsOf(() => traccarJsonReportOf({ device_id: 'a', location: [] }, NOW))).toEqual([
      'body.location',
    ]);
  });
});
