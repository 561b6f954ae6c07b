import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TotError } from '../../../geo/errors.ts';
import { FleetIndex, statusBit } from '../../../geo/fleet-index.ts';
import { BOX, type ModelPoint, bruteNearby, hitsOf, indexOf, pointsArbitrary } from './fleet-index-model.ts';

const queryPoint = fc.oneof(
  // Inside or just around the fleet.
  fc.record({
    lat: fc.double({ min: BOX.minLat - 0.01, max: BOX.maxLat + 0.01, noNaN: true }),
    lng: fc.double({ min: BOX.minLng - 0.01, max: BOX.maxLng + 0.01, noNaN: true }),
  }),
  // Empty ground: kilometres to thousands of kilometres away.
  fc.constantFrom(
    { lat: 55.9, lng: 37.9 },
    { lat: 59.93, lng: 30.33 },
    { lat: -33.9, lng: 151.2 },
    { lat: 89.9, lng: 0 },
  ),
);

const filter = fc.record(
  {
    statusMask: fc.constantFrom(statusBit(0), statusBit(0) | statusBit(2), 0, 0xffffffff),
    tagsAll: fc.constantFrom(0, 1, 3),
    tagsAny: fc.constantFrom(0, 2, 6),
  },
  { requiredKeys: [] },
);

describe('FleetIndex.nearby equals a brute-force haversine sort', () => {
  it('on random fleets, queries, k, maxKm and filters (ids and distances exactly)', () => {
    fc.assert(
      fc.property(
        pointsArbitrary(150),
        queryPoint,
        fc.integer({ min: 0, max: 170 }),
        fc.option(fc.double({ min: 0, max: 3, noNaN: true }), { nil: undefined }),
        filter,
        fc.constantFrom(7, 9, 11),
        (points, query, k, maxKm, pointFilter, resolution) => {
          const index = indexOf(points, resolution);
          const options = { k, ...pointFilter, ...(maxKm === undefined ? {} : { maxKm }) };
          expect(hitsOf(index, query.lat, query.lng, options)).toEqual(
            bruteNearby(points, query.lat, query.lng, options),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with k larger than the fleet returns every match, sorted', () => {
    fc.assert(
      fc.property(pointsArbitrary(60), queryPoint, (points, query) => {
        const index = indexOf(points);
        const options = { k: points.length + 10, statusMask: statusBit(0) };
        const hits = hitsOf(index, query.lat, query.lng, options);
        expect(hits).toEqual(bruteNearby(points, query.lat, query.lng, options));
        expect(hits).toHaveLength(points.filter((p) => p.status === 0).length);
      }),
    );
  });

  it('honours a predicate for rare conditions', () => {
    fc.assert(
      fc.property(pointsArbitrary(80), queryPoint, fc.integer({ min: 1, max: 10 }), (points, query, k) => {
        const index = indexOf(points);
        const predicate = (id: string) => id.endsWith('3') || id.endsWith('7');
        const options = { k, predicate };
        expect(hitsOf(index, query.lat, query.lng, options)).toEqual(
          bruteNearby(points, query.lat, query.lng, options),
        );
      }),
    );
  });

  it('returns nothing for an empty index, k = 0, an unmatched filter or a radius that reaches no one', () => {
    const empty = new FleetIndex();
    expect(empty.nearby(55.75, 37.6, { k: 10 })).toEqual([]);
    const index = indexOf([{ id: 'a', lat: 55.75, lng: 37.62, status: 1, tags: 0 }]);
    expect(index.nearby(55.75, 37.62, { k: 0 })).toEqual([]);
    expect(index.nearby(55.75, 37.62, { k: 5, statusMask: statusBit(0) })).toEqual([]);
    expect(index.nearby(55.7, 37.62, { k: 5, maxKm: 1 })).toEqual([]);
    expect(index.nearby(55.75, 37.62, { k: 5, maxKm: 0 })).toEqual([{ id: 'a', slot: 0, distanceKm: 0 }]);
  });

  it('finds the only point of the fleet from the other side of the planet', () => {
    const index = indexOf([{ id: 'a', lat: 55.75, lng: 37.62, status: 0, tags: 0 }]);
    const [hit] = index.nearby(-55.75, -142.38, { k: 1 });
    expect(hit?.id).toBe('a');
    expect(hit?.distanceKm).toBeCloseTo(Math.PI * 6371.0088, 0);
  });

  it('rejects bad arguments with coded errors and changes nothing', () => {
    const index = indexOf([{ id: 'a', lat: 55.75, lng: 37.62, status: 0, tags: 0 }]);
    const codeOf = (action: () => unknown) => {
      try {
        action();
      } catch (error) {
        return (error as TotError).code;
      }
      return undefined;
    };
    expect(codeOf(() => index.nearby(Number.NaN, 37, { k: 1 }))).toBe('GEO_INVALID_COORDINATE');
    expect(codeOf(() => index.nearby(55, 181, { k: 1 }))).toBe('GEO_INVALID_COORDINATE');
    expect(codeOf(() => index.nearby(55, 37, { k: -1 }))).toBe('GEO_INVALID_ARGUMENT');
    expect(codeOf(() => index.nearby(55, 37, { k: 1.5 }))).toBe('GEO_INVALID_ARGUMENT');
    expect(codeOf(() => index.nearby(55, 37, { k: 1, maxKm: Number.NaN }))).toBe('GEO_INVALID_ARGUMENT');
    expect(codeOf(() => index.nearby(55, 37, { k: 1, maxKm: -1 }))).toBe('GEO_INVALID_ARGUMENT');
    expect(codeOf(() => index.nearby(55, 37, { k: 1, statusMask: -1 }))).toBe('GEO_INVALID_ARGUMENT');
    expect(codeOf(() => index.nearby(55, 37, { k: 1, tagsAll: 2 ** 32 }))).toBe('GEO_INVALID_ARGUMENT');
    expect(index.size).toBe(1);
  });
});

describe('FleetIndex after writes', () => {
  type Operation =
    | { kind: 'upsert'; id: number; lat: number; lng: number; status: number }
    | { kind: 'nudge'; id: number; dLat: number; dLng: number }
    | { kind: 'remove'; id: number }
    | { kind: 'status'; id: number; status: number };

  const operation: fc.Arbitrary<Operation> = fc.oneof(
    fc.record({
      kind: fc.constant('upsert' as const),
      id: fc.integer({ min: 0, max: 40 }),
      lat: fc.double({ min: BOX.minLat, max: BOX.maxLat, noNaN: true }),
      lng: fc.double({ min: BOX.minLng, max: BOX.maxLng, noNaN: true }),
      status: fc.integer({ min: 0, max: 3 }),
    }),
    fc.record({
      kind: fc.constant('nudge' as const),
      id: fc.integer({ min: 0, max: 40 }),
      dLat: fc.double({ min: -0.002, max: 0.002, noNaN: true }),
      dLng: fc.double({ min: -0.003, max: 0.003, noNaN: true }),
    }),
    fc.record({ kind: fc.constant('remove' as const), id: fc.integer({ min: 0, max: 40 }) }),
    fc.record({
      kind: fc.constant('status' as const),
      id: fc.integer({ min: 0, max: 40 }),
      status: fc.integer({ min: 0, max: 3 }),
    }),
  );

  it('matches the model after random upserts, moves within and across cells, removes and status changes', () => {
    fc.assert(
      fc.property(
        fc.array(operation, { maxLength: 200 }),
        queryPoint,
        fc.integer({ min: 1, max: 12 }),
        (ops, query, k) => {
          const index = new FleetIndex({ initialCapacity: 2 });
          const model = new Map<string, ModelPoint>();
          let now = 0;
          for (const op of ops) {
            const id = `p${op.id}`;
            const existing = model.get(id);
            now += 1000;
            if (op.kind === 'upsert') {
              index.upsert(id, op.lat, op.lng, { status: op.status }, now);
              model.set(id, { id, lat: op.lat, lng: op.lng, status: op.status, tags: existing?.tags ?? 0 });
            } else if (op.kind === 'nudge' && existing) {
              const lat = existing.lat + op.dLat;
              const lng = existing.lng + op.dLng;
              index.upsert(id, lat, lng, undefined, now);
              model.set(id, { ...existing, lat, lng });
            } else if (op.kind === 'remove') {
              expect(index.remove(id)).toBe(existing !== undefined);
              model.delete(id);
            } else if (op.kind === 'status' && existing) {
              index.setStatusAt(index.slotOf(id), op.status);
              model.set(id, { ...existing, status: op.status });
            }
          }
          expect(index.size).toBe(model.size);
          for (const point of model.values()) {
            const stored = index.get(point.id);
            expect(stored).toMatchObject({
              id: point.id,
              lat: point.lat,
              lng: point.lng,
              status: point.status,
            });
            expect(stored?.cell).toBe(index.cellAt(stored?.slot ?? -1));
          }
          for (const statusMask of [0xffffffff, statusBit(0)]) {
            const options = { k, statusMask };
            expect(hitsOf(index, query.lat, query.lng, options)).toEqual(
              bruteNearby(model.values(), query.lat, query.lng, options),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reuses the slot of a removed point and forgets the old id', () => {
    const index = new FleetIndex();
    const a = index.upsert('a', 55.75, 37.62, undefined, 0);
    index.remove('a');
    const b = index.upsert('b', 55.76, 37.63, { status: 2, tags: 5 }, 1);
    expect(b).toBe(a);
    expect(index.get('a')).toBeUndefined();
    expect(index.get('b')).toMatchObject({ status: 2, tags: 5, updatedAt: 1 });
    expect(index.remove('a')).toBe(false);
  });

  it('keeps a point unchanged when an upsert is rejected', () => {
    const index = new FleetIndex();
    index.upsert('a', 55.75, 37.62, { status: 1 }, 0);
    expect(() => index.upsert('a', 95, 37.62, undefined, 1)).toThrow(TotError);
    expect(() => index.upsert('a', 55.76, 37.62, { status: 32 }, 1)).toThrow(TotError);
    expect(() => index.upsert('', 55.76, 37.62, undefined, 1)).toThrow(TotError);
    expect(index.get('a')).toMatchObject({ lat: 55.75, lng: 37.62, status: 1, updatedAt: 0 });
    expect(index.size).toBe(1);
  });
});
