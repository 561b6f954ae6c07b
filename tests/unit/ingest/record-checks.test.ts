/**
 * The hand-written checks of ingest/record-checks.ts against the zod schemas they stand in for: on generated records —
 * valid ones, valid ones with one field replaced by something odd (NaN, ±Infinity, -0, boundaries and their neighbours,
 * wrong types, unsafe integers, strings around 64 code points), fields removed, fields added, and arbitrary values —
 * both accept or both reject, and on a reject the check names the field of zod's first issue.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invalidFixField, invalidReadingField, WHOLE_RECORD } from '../../../ingest/record-checks.ts';
import { fixSchema, readingSchema } from '../../../ingest/schemas.ts';

const RUNS = 20_000;

/** Numbers at and around the schemas' bounds, and the values number checks get wrong most often. */
const awkwardNumbers = [
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  90,
  -90,
  180,
  -180,
  100,
  150,
  250,
  360,
  100_000,
  90.00000000000001,
  -90.00000000000001,
  180.00000000000003,
  -180.00000000000003,
  100.00000000000001,
  150.00000000000003,
  250.00000000000003,
  360.00000000000006,
  100_000.00000000001,
  -Number.MIN_VALUE,
  Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  -Number.MAX_SAFE_INTEGER,
  2 ** 53 + 2,
  1e300,
  -1e300,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Date.UTC(2026, 0, 1),
  Date.UTC(2026, 0, 1) + 0.5,
];

/** Ids of 0 to ~70 code points, mixing one-unit characters, surrogate pairs and lone surrogates. */
const idLike = fc
  .array(fc.constantFrom('a', 'Z', '7', '-', 'é', 'Д', '😀', '𝄞', '\ud800', '\udc00', ' '), { maxLength: 70 })
  .map((parts) => parts.join(''));

const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...awkwardNumbers),
  fc.double(),
  fc.integer(),
  fc.constantFrom(undefined, null, true, false, '', '55.7', '1', [], {}, [1], 5n, new Date(0), new Map()),
  idLike,
  fc.anything(),
);

/** A number in [min, max], its bounds included often. */
const within = (min: number, max: number) =>
  fc.oneof(fc.double({ min, max, noNaN: true }), fc.constantFrom(min, max, (min + max) / 2));

const validId = idLike.filter((id) => id.length > 0 && [...id].length <= 64);
const timestamp = fc.oneof(
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(1, Date.UTC(2026, 0, 1)),
);

const validFix = fc.record(
  {
    doctorId: validId,
    lat: within(-90, 90),
    lng: within(-180, 180),
    ts: timestamp,
    accuracy: within(0, 100_000),
    speed: within(0, 150),
    heading: within(0, 360),
    battery: within(0, 100),
    seq: fc.oneof(fc.nat(), fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER)),
  },
  { requiredKeys: ['doctorId', 'lat', 'lng', 'ts'] },
);

const validReading = fc.record(
  {
    detectorId: validId,
    ts: timestamp,
    speedKmh: within(0, 250),
    volume: fc.oneof(within(0, 1e6), fc.constantFrom(Number.MAX_VALUE)),
    occupancy: within(0, 100),
    lat: within(-90, 90),
    lng: within(-180, 180),
  },
  { requiredKeys: ['detectorId', 'ts', 'speedKmh'] },
);

/** `valid` records, and the same with fields replaced, removed or added (up to three edits). */
function records(
  valid: fc.Arbitrary<Record<string, unknown>>,
  fields: readonly string[],
): fc.Arbitrary<unknown> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), field: fc.constantFrom(...fields), value: oddValue }),
    fc.record({ kind: fc.constant('delete' as const), field: fc.constantFrom(...fields) }),
    fc.record({ kind: fc.constant('extra' as const), field: fc.string({ maxLength: 8 }), value: oddValue }),
  );
  const edited = fc.tuple(valid, fc.array(edit, { maxLength: 3 })).map(([record, edits]) => {
    const copy: Record<string, unknown> = { ...record };
    for (const change of edits) {
      if (change.kind === 'delete') delete copy[change.field];
      // A field named __proto__ would change the prototype, not add a key; zod skips that key anyway.
      else if (change.field !== '__proto__') copy[change.field] = change.value;
    }
    return copy;
  });
  return fc.oneof(
    { arbitrary: edited, weight: 8 },
    { arbitrary: oddValue, weight: 1 },
    { arbitrary: valid, weight: 1 },
  );
}

function expectSameVerdict(
  value: unknown,
  check: (value: unknown) => string | undefined,
  schema: typeof fixSchema | typeof readingSchema,
): void {
  const field = check(value);
  const parsed = schema.safeParse(value);
  if (parsed.success) {
    expect(field).toBeUndefined();
    // zod only strips unknown keys: every field it outputs is the input's own value, so the unparsed record can be
    // applied as it is.
    for (const [key, out] of Object.entries(parsed.data)) {
      expect(Object.is(out, (value as Record<string, unknown>)[key])).toBe(true);
    }
  } else {
    const first = parsed.error.issues[0]!;
    expect(field).toBe(first.path.length === 0 ? WHOLE_RECORD : String(first.path[0]));
  }
}

describe('invalidFixField', () => {
  const fields = ['doctorId', 'lat', 'lng', 'ts', 'accuracy', 'speed', 'heading', 'battery', 'seq'];

  it('agrees with fixSchema on generated records', () => {
    fc.assert(
      fc.property(records(validFix, fields), (value) => expectSameVerdict(value, invalidFixField, fixSchema)),
      { numRuns: RUNS },
    );
  });

  it('accepts every generated valid fix', () => {
    fc.assert(
      fc.property(validFix, (fix) => {
        expect(invalidFixField(fix)).toBeUndefined();
      }),
      { numRuns: 2_000 },
    );
  });

  it('names the field on known cases (golden values)', () => {
    const fix = { doctorId: 'doc-1', lat: 55.75, lng: 37.61, ts: 1_700_000_000_000 };
    const cases: [unknown, string | undefined][] = [
      [fix, undefined],
      [{ ...fix, extra: 'ignored' }, undefined],
      [{ ...fix, speed: -0 }, undefined],
      [{ ...fix, doctorId: '😀'.repeat(64) }, undefined],
      [{ ...fix, doctorId: '😀'.repeat(65) }, 'doctorId'],
      [{ ...fix, doctorId: 'x'.repeat(65) }, 'doctorId'],
      [{ ...fix, lat: Number.NaN }, 'lat'],
      [{ ...fix, lng: Number.NEGATIVE_INFINITY }, 'lng'],
      [{ ...fix, lat: 90.00000000000001 }, 'lat'],
      [{ ...fix, ts: 2 ** 53 }, 'ts'],
      [{ ...fix, ts: -0 }, 'ts'],
      [{ ...fix, ts: 1.5 }, 'ts'],
      [{ ...fix, ts: 5n }, 'ts'],
      [{ ...fix, accuracy: null }, 'accuracy'],
      [{ ...fix, heading: 360.00000000000006 }, 'heading'],
      [{ ...fix, seq: -1 }, 'seq'],
      [{ doctorId: '', lat: 100 }, 'doctorId'],
      [[fix], WHOLE_RECORD],
      [null, WHOLE_RECORD],
      ['text', WHOLE_RECORD],
      [new Map(), 'doctorId'],
    ];
    for (const [value, field] of cases) {
      expect(
        invalidFixField(value),
        JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
      ).toBe(field);
      expectSameVerdict(value, invalidFixField, fixSchema);
    }
  });
});

describe('invalidReadingField', () => {
  const fields = ['detectorId', 'ts', 'speedKmh', 'volume', 'occupancy', 'lat', 'lng'];

  it('agrees with readingSchema on generated records', () => {
    fc.assert(
      fc.property(records(validReading, fields), (value) =>
        expectSameVerdict(value, invalidReadingField, readingSchema),
      ),
      { numRuns: RUNS },
    );
  });

  it('names the field on known cases (golden values)', () => {
    const reading = { detectorId: 'det-1', ts: 1_700_000_000_000, speedKmh: 40 };
    const cases: [unknown, string | undefined][] = [
      [reading, undefined],
      [{ ...reading, volume: Number.MAX_VALUE }, undefined],
      [{ ...reading, volume: Number.POSITIVE_INFINITY }, 'volume'],
      [{ ...reading, speedKmh: 250.00000000000003 }, 'speedKmh'],
      [{ ...reading, occupancy: -Number.MIN_VALUE }, 'occupancy'],
      [{ ...reading, lng: '37.6' }, 'lng'],
      [{ ts: 5 }, 'detectorId'],
      [undefined, WHOLE_RECORD],
    ];
    for (const [value, field] of cases) {
      expect(invalidReadingField(value)).toBe(field);
      expectSameVerdict(value, invalidReadingField, readingSchema);
    }
  });
});
