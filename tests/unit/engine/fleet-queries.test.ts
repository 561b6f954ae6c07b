import fc from 'fast-check';
import * as h3 from 'h3-js';
import { booleanPointInPolygon } from '@turf/turf';
import type { Polygon } from 'geojson';
import { describe, expect, it } from 'vitest';
import { haversineKm } from '../../../geo/distance.ts';
import type { TotError } from '../../../geo/errors.ts';
import { type DoctorStatus, type DoctorView, Fleet, NearbyColumns } from '../../../engine/fleet.ts';

const NAMES = Array.from({ length: 36 }, (_, i) => `s${i}`);

const doctorArbitrary = fc.record({
  lat: fc.double({ min: 55.74, max: 55.76, noNaN: true }),
  lng: fc.double({ min: 37.6, max: 37.635, noNaN: true }),
  specializations: fc.subarray(NAMES, { maxLength: 6 }),
  status: fc.constantFrom<DoctorStatus>('available', 'available', 'offered', 'offline'),
  placed: fc.double({ min: 0, max: 1, noNaN: true }),
  rating: fc.option(fc.double({ min: 1, max: 5, noNaN: true }), { nil: undefined }),
});

type DoctorRow = typeof doctorArbitrary extends fc.Arbitrary<infer T> ? T : never;

function build(rows: DoctorRow[]): Fleet {
  const fleet = new Fleet();
  // Register the last names first so that some of them take the 32 tag bits and the first ones overflow.
  fleet.register({ id: 'seed', specializations: [...NAMES].reverse() }, 0);
  fleet.remove('seed');
  rows.forEach((row, i) => {
    const id = `d${String(i).padStart(3, '0')}`;
    fleet.register(
      {
        id,
        specializations: row.specializations,
        ...(row.rating === undefined ? {} : { rating: row.rating }),
      },
      0,
    );
    if (row.placed < 0.9) fleet.applyFix({ doctorId: id, lat: row.lat, lng: row.lng, ts: 1 }, 1);
    if (row.status === 'offered' || row.status === 'offline') fleet.setStatus(id, row.status, 2);
  });
  return fleet;
}

function matching(
  fleet: Fleet,
  statuses: readonly DoctorStatus[] | undefined,
  specializations: readonly string[],
): DoctorView[] {
  return fleet
    .ids()
    .map((id) => fleet.get(id) as DoctorView)
    .filter(
      (view) =>
        view.lat !== undefined &&
        (statuses === undefined || statuses.includes(view.status)) &&
        specializations.every((name) => view.specializations.includes(name)),
    );
}

describe('Fleet.nearby', () => {
  it('equals a brute-force sort over doctor views with specialization and status filters', () => {
    // One set of columns for every run: each answer overwrites the last, and k up to 20 outgrows the first 8.
    const columns = new NearbyColumns();
    fc.assert(
      fc.property(
        fc.array(doctorArbitrary, { maxLength: 120 }),
        fc.record({
          lat: fc.double({ min: 55.73, max: 55.77, noNaN: true }),
          lng: fc.double({ min: 37.59, max: 37.645, noNaN: true }),
        }),
        fc.integer({ min: 1, max: 20 }),
        fc.subarray(NAMES, { maxLength: 2 }),
        fc.constantFrom<DoctorStatus[] | undefined>(undefined, ['available'], ['available', 'offered']),
        fc.option(fc.double({ min: 0.1, max: 2, noNaN: true }), { nil: undefined }),
        (rows, query, k, specializations, statuses, maxKm) => {
          const fleet = build(rows);
          const options = {
            k,
            ...(specializations.length === 1
              ? { specialization: specializations[0] }
              : { specialization: specializations }),
            ...(statuses ? { status: statuses } : {}),
            ...(maxKm === undefined ? {} : { maxKm }),
          };
          const expected = matching(fleet, statuses, specializations)
            .map((doctor) => ({
              doctor,
              distanceKm: haversineKm(query.lat, query.lng, doctor.lat as number, doctor.lng as number),
            }))
            .filter((hit) => maxKm === undefined || hit.distanceKm <= maxKm)
            .sort((a, b) => a.distanceKm - b.distanceKm || (a.doctor.id < b.doctor.id ? -1 : 1))
            .slice(0, k);
          expect(fleet.nearby(query.lat, query.lng, options)).toEqual(expected);
          // The brief hits: the same doctors in the same order, with what the matcher reads of them.
          expect(fleet.nearbyBrief(query.lat, query.lng, options)).toEqual(
            expected.map(({ doctor, distanceKm }) => ({
              id: doctor.id,
              lat: doctor.lat,
              lng: doctor.lng,
              rating: doctor.rating,
              distanceKm,
            })),
          );
          // The same in columns.
          expect(fleet.nearbyInto(query.lat, query.lng, options, columns)).toBe(expected.length);
          expect(columns.count).toBe(expected.length);
          expected.forEach(({ doctor, distanceKm }, i) => {
            expect(columns.ids[i]).toBe(doctor.id);
            expect(columns.lat[i]).toBe(doctor.lat);
            expect(columns.lng[i]).toBe(doctor.lng);
            expect(columns.distanceKm[i]).toBe(distanceKm);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('returns nothing for a specialization no doctor has, and refuses unknown statuses', () => {
    const fleet = new Fleet();
    fleet.applyFix({ doctorId: 'a', lat: 55.75, lng: 37.62, ts: 1 }, 1);
    expect(fleet.nearby(55.75, 37.62, { k: 5, specialization: 'astronaut' })).toEqual([]);
    expect(fleet.nearbyBrief(55.75, 37.62, { k: 5, specialization: 'astronaut' })).toEqual([]);
    expect(() => fleet.nearbyBrief(55.75, 37.62, { k: 5, status: 'dancing' as DoctorStatus })).toThrow(
      /status/,
    );
    expect(fleet.nearby(55.75, 37.62, { k: 5, status: 'available' })).toHaveLength(1);
    try {
      fleet.nearby(55.75, 37.62, { k: 5, status: 'dancing' as DoctorStatus });
      expect.fail('accepted an unknown status');
    } catch (error) {
      expect((error as TotError).code).toBe('ENGINE_INVALID_ARGUMENT');
    }
  });
});

describe('Fleet.positionOf', () => {
  it("gives a placed doctor's last position, nothing for a doctor without one or an unknown id", () => {
    const fleet = new Fleet();
    fleet.applyFix({ doctorId: 'a', lat: 55.75, lng: 37.62, ts: 1 }, 1);
    fleet.applyFix({ doctorId: 'a', lat: 55.751, lng: 37.621, ts: 2 }, 2);
    fleet.register({ id: 'b', specializations: [] }, 2);
    expect(fleet.positionOf('a')).toEqual({ lat: 55.751, lng: 37.621 });
    expect(fleet.positionOf('b')).toBeUndefined();
    expect(fleet.positionOf('nobody')).toBeUndefined();
  });
});

describe('Fleet.within and countsByCell', () => {
  it('equal brute force over doctor views', () => {
    fc.assert(
      fc.property(
        fc.array(doctorArbitrary, { maxLength: 120 }),
        fc.subarray(NAMES, { maxLength: 1 }),
        (rows, specializations) => {
          const fleet = build(rows);
          const area: Polygon = {
            type: 'Polygon',
            coordinates: [
              [
                [37.605, 55.745],
                [37.63, 55.742],
                [37.625, 55.758],
                [37.605, 55.745],
              ],
            ],
          };
          const filter = { status: ['available'] as DoctorStatus[], specialization: specializations };
          const expected = matching(fleet, ['available'], specializations)
            .filter((view) => booleanPointInPolygon([view.lng as number, view.lat as number], area))
            .sort((a, b) => (a.id < b.id ? -1 : 1));
          expect(fleet.within(area, filter)).toEqual(expected);
          const counts = new Map<string, number>();
          for (const view of matching(fleet, ['available'], specializations)) {
            const cell = h3.cellToParent(h3.latLngToCell(view.lat as number, view.lng as number, 9), 7);
            counts.set(cell, (counts.get(cell) ?? 0) + 1);
          }
          expect(fleet.countsByCell(7, filter)).toEqual(counts);
        },
      ),
      { numRuns: 60 },
    );
  });
});
