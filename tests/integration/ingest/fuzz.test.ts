/**
 * The engine process on the real broker, fed malformed stream messages interleaved with good ones: random bytes,
 * wrong types, NaN and ±Infinity, out-of-range coordinates, timestamps far in the future or past, a value over
 * 256 KiB, truncated msgpack, empty values and batches mixing good and bad records. Every bad record must end in the
 * dead-letter topic with its reason, the counters must reconcile exactly with what was produced, the process must stay
 * up, and every good doctor must be at its last good fix.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { topicNames, type BusRecord, type OutgoingMessage } from '../../../engine/bus.ts';
import { encodeRecords, MAX_RECORD_BYTES } from '../../../ingest/codec.ts';
import { KafkaBus } from '../../../ingest/kafka-bus.ts';
import { fixSchema, readingSchema } from '../../../ingest/schemas.ts';
import type { DeadLetter } from '../../../ingest/stream-consumer.ts';
import { getJson } from '../../support/engine-process.ts';
import { deleteTopics } from '../../support/kafka-topics.ts';
import { waitFor } from '../../support/wait.ts';
import { Cleanups, metricsOf, required, startKafkaEngine, total, uniqueRun } from './engine-under-test.ts';

/** The codec's own msgpack settings, to tell what random bytes decode to. */
const packr = new Packr({ useRecords: false });
const SEED = 20_261_122;

/** A letter the test expects: its reason and the index of the record in the value (-1: the whole value). */
type Expected = { reason: DeadLetter['reason']; index: number };

/** A message to produce and what must become of it. */
interface Planned {
  topic: 'fixes' | 'readings';
  message: OutgoingMessage;
  letters: Expected[];
  applied: number;
  stale: number;
}

/** The good fix of a doctor at step `k`: a distinct position and an increasing ts. */
function goodFix(doctorId: string, k: number, base: number) {
  return {
    doctorId,
    lat: 55.6 + k / 1000,
    lng: 37.5 + doctorId.length / 1000 + k / 2000,
    ts: base + k * 1000,
    accuracy: 5,
    seq: k,
  };
}

/** What random bytes become, told by the schema (the specification) after msgpack decoding. */
function expectedOfBytes(
  bytes: Uint8Array,
  schema: typeof fixSchema | typeof readingSchema,
): Expected[] | undefined {
  if (bytes.byteLength > MAX_RECORD_BYTES) return [{ reason: 'too_large', index: -1 }];
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch {
    return [{ reason: 'not_msgpack', index: -1 }];
  }
  if (!Array.isArray(value))
    return schema.safeParse(value).success ? undefined : [{ reason: 'invalid', index: 0 }];
  if (value.length === 0) return [{ reason: 'invalid', index: -1 }];
  // Random bytes that decode to a valid record are not a bad message; the plan skips them.
  if (value.some((item) => schema.safeParse(item).success)) return undefined;
  return value.map((_, index) => ({ reason: 'invalid' as const, index }));
}

function plan(now: number): Planned[] {
  const base = now - 120_000;
  const queues: Planned[][] = [];
  const bad = (topic: Planned['topic'], key: string, value: Uint8Array, letters: Expected[]) =>
    queues.push([{ topic, message: { key, value }, letters, applied: 0, stale: 0 }]);
  const invalid: Expected[] = [{ reason: 'invalid', index: 0 }];

  // Good doctors: five fixes each in order, then a replay of an earlier one (stale by design).
  for (let d = 0; d < 40; d++) {
    const doctorId = `doc-${d}`;
    const queue: Planned[] = [];
    for (let k = 0; k < 5; k++) {
      queue.push({
        topic: 'fixes',
        message: { key: doctorId, value: encodeRecords(goodFix(doctorId, k, base)) },
        letters: [],
        applied: 1,
        stale: 0,
      });
    }
    queue.push({ ...queue[d % 5]!, applied: 0, stale: 1 });
    queues.push(queue);
  }
  // Good detectors, three readings each.
  for (let r = 0; r < 5; r++) {
    const detectorId = `det-${r}`;
    const queue: Planned[] = [];
    for (let k = 0; k < 3; k++) {
      const reading = {
        detectorId,
        ts: base + k * 1000,
        speedKmh: 30 + k,
        volume: 12,
        occupancy: 20,
        lat: 55.6 + r / 100,
        lng: 37.6,
      };
      queue.push({
        topic: 'readings',
        message: { key: detectorId, value: encodeRecords(reading) },
        letters: [],
        applied: 1,
        stale: 0,
      });
    }
    queues.push(queue);
  }

  // Random bytes, on both topics.
  const randomReasons = new Set<string>();
  const randomValues = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 200 }), {
    seed: SEED,
    numRuns: 60,
  });
  randomValues.forEach((bytes, n) => {
    const topic = n % 4 === 0 ? 'readings' : 'fixes';
    const letters = expectedOfBytes(bytes, topic === 'fixes' ? fixSchema : readingSchema);
    if (letters) bad(topic, `random-${n}`, bytes, letters);
    for (const letter of letters ?? []) randomReasons.add(letter.reason);
  });
  // The seed gives both kinds: bytes that do not decode, and bytes that decode to something that is not a record.
  expect([...randomReasons].sort()).toEqual(['invalid', 'not_msgpack']);

  const fix = { doctorId: 'bad-doc', lat: 55.75, lng: 37.61, ts: now - 5_000 };
  const badFixes: Record<string, unknown> = {
    'nan-lat': { ...fix, lat: Number.NaN },
    'inf-lng': { ...fix, lng: Number.POSITIVE_INFINITY },
    'minus-inf-lat': { ...fix, lat: Number.NEGATIVE_INFINITY },
    'nan-accuracy': { ...fix, accuracy: Number.NaN },
    'inf-speed': { ...fix, speed: Number.POSITIVE_INFINITY },
    'lat-over': { ...fix, lat: 90.0001 },
    'lat-under': { ...fix, lat: -91 },
    'lng-over': { ...fix, lng: 180.5 },
    'heading-over': { ...fix, heading: 361 },
    'battery-over': { ...fix, battery: 101 },
    'speed-negative': { ...fix, speed: -1 },
    'lat-string': { ...fix, lat: '55.7' },
    'id-number': { ...fix, doctorId: 42 },
    'id-empty': { ...fix, doctorId: '' },
    'id-long': { ...fix, doctorId: 'x'.repeat(65) },
    'ts-string': { ...fix, ts: String(fix.ts) },
    'ts-fraction': { ...fix, ts: fix.ts + 0.5 },
    'ts-int64': { ...fix, ts: 2n ** 60n },
    'ts-zero': { ...fix, ts: 0 },
    'no-lat': { doctorId: 'bad-doc', lng: 37.6, ts: fix.ts },
    'no-id': { lat: 55.7, lng: 37.6, ts: fix.ts },
    'a-string': 'fix',
    'a-number': 42,
    'a-null': null,
    'a-boolean': true,
  };
  for (const [name, value] of Object.entries(badFixes))
    bad('fixes', `bad-${name}`, encodeRecords(value), invalid);
  const outOfWindow: Expected[] = [{ reason: 'timestamp_out_of_range', index: 0 }];
  bad('fixes', 'bad-ts-future', encodeRecords({ ...fix, ts: now + 3_600_000 }), outOfWindow);
  bad('fixes', 'bad-ts-past', encodeRecords({ ...fix, ts: now - 3 * 86_400_000 }), outOfWindow);

  // A valid-looking batch of about 300 KiB: too large, whatever it holds.
  const large = encodeRecords(Array.from({ length: 5_200 }, (_, k) => ({ ...fix, doctorId: `large-${k}` })));
  expect(large.byteLength).toBeGreaterThan(300 * 1024);
  expect(large.byteLength).toBeLessThan(900 * 1024);
  bad('fixes', 'bad-too-large', large, [{ reason: 'too_large', index: -1 }]);
  const batch = encodeRecords([fix, fix, fix]);
  bad('fixes', 'bad-truncated', batch.subarray(0, batch.length - 7), [{ reason: 'not_msgpack', index: -1 }]);
  bad('fixes', 'bad-empty-value', new Uint8Array(0), [{ reason: 'not_msgpack', index: -1 }]);
  bad('fixes', 'bad-empty-batch', encodeRecords([]), [{ reason: 'invalid', index: -1 }]);

  // Batches mixing good and bad records: the good ones (doctors of their own) are applied.
  for (let m = 0; m < 6; m++) {
    const records = [
      goodFix(`mix-${m}-a`, 1, base),
      { ...fix, lat: Number.NaN },
      goodFix(`mix-${m}-b`, 1, base),
      null,
      { ...fix, ts: now + 3_600_000 },
      goodFix(`mix-${m}-c`, 1, base),
      { ...fix, lng: 200 },
    ];
    queues.push([
      {
        topic: 'fixes',
        message: { key: `mixed-${m}`, value: encodeRecords(records) },
        letters: [
          { reason: 'invalid', index: 1 },
          { reason: 'invalid', index: 3 },
          { reason: 'timestamp_out_of_range', index: 4 },
          { reason: 'invalid', index: 6 },
        ],
        applied: 3,
        stale: 0,
      },
    ]);
  }

  const reading = { detectorId: 'bad-det', ts: now - 5_000, speedKmh: 40, lat: 55.7, lng: 37.6 };
  bad('readings', 'badr-nan-speed', encodeRecords({ ...reading, speedKmh: Number.NaN }), invalid);
  bad('readings', 'badr-speed-over', encodeRecords({ ...reading, speedKmh: 300 }), invalid);
  bad('readings', 'badr-occupancy-over', encodeRecords({ ...reading, occupancy: 101 }), invalid);
  bad('readings', 'badr-no-id', encodeRecords({ ts: reading.ts, speedKmh: 40 }), invalid);
  bad('readings', 'badr-future', encodeRecords({ ...reading, ts: now + 3_600_000 }), outOfWindow);
  // Valid for the schema; the engine refuses it: a detector it does not know must say where it is.
  bad(
    'readings',
    'badr-no-position',
    encodeRecords({ detectorId: 'det-unknown', ts: reading.ts, speedKmh: 40 }),
    [{ reason: 'rejected', index: 0 }],
  );

  // Interleave the queues (each in its own order) with a seeded shuffle.
  const random = fc.sample(fc.integer({ min: 0, max: 2 ** 30 }), { seed: SEED + 1, numRuns: 10_000 });
  const planned: Planned[] = [];
  let draw = 0;
  while (queues.some((queue) => queue.length > 0)) {
    const open = queues.filter((queue) => queue.length > 0);
    planned.push(open[random[draw++ % random.length]! % open.length]!.shift()!);
  }
  return planned;
}

describe('the stream path under malformed input, on the real broker', () => {
  const cleanups = new Cleanups();
  afterEach(() => cleanups.run());

  it('dead-letters every bad record, applies every good one, reconciles the counts exactly and stays up', async () => {
    const run = uniqueRun('fuzz');
    const topics = topicNames(`test.${run}`);
    // First registered, so it runs last: after the engine and the test's own clients are gone.
    cleanups.add(async () => {
      await deleteTopics(required('KAFKA_BROKERS'), { prefixes: [`test.${run}.`] });
    });
    const engine = await startKafkaEngine(cleanups, {
      TOPIC_PREFIX: `test.${run}`,
      KAFKA_GROUP: `engine-${run}`,
      SNAPSHOT_KEY: `tot:test:${run}`,
    });
    const bus = new KafkaBus({ brokers: required('KAFKA_BROKERS').split(','), clientId: `fuzz-${run}` });
    cleanups.add(() => bus.close());
    const letters: BusRecord[] = [];
    const reader = await bus.subscribe([topics.dlq], (records) => void letters.push(...records), {
      group: `dlq-${run}`,
    });
    cleanups.add(() => reader.close());

    const planned = plan(Date.now());
    // Several publishes, so that broker batches and consumer batches mix good and bad messages.
    for (let i = 0; i < planned.length; i += 25) {
      const slice = planned.slice(i, i + 25);
      await Promise.all(
        (['fixes', 'readings'] as const).map((topic) =>
          bus.publish(
            topics[topic],
            slice.filter((item) => item.topic === topic).map((item) => item.message),
          ),
        ),
      );
    }

    const expected = (topic: Planned['topic']) => {
      const items = planned.filter((item) => item.topic === topic);
      const sum = (pick: (item: Planned) => number) => items.reduce((acc, item) => acc + pick(item), 0);
      return {
        applied: sum((item) => item.applied),
        stale: sum((item) => item.stale),
        letters: sum((item) => item.letters.length),
      };
    };
    const want = { fixes: expected('fixes'), readings: expected('readings') };
    const allLetters = want.fixes.letters + want.readings.letters;
    expect(want.fixes.letters).toBeGreaterThan(80);

    // Wait until every record is accounted for in the counters and every letter is in the topic.
    await waitFor(
      async () => {
        const samples = await metricsOf(engine);
        const progress = (['fixes', 'readings'] as const).map((topic) => {
          const w = want[topic];
          return {
            topic,
            counted: total(samples, 'tot_stream_messages_total', { topic: topics[topic] }),
            wanted: w.applied + w.stale + w.letters,
          };
        });
        if (progress.every((p) => p.counted >= p.wanted) && letters.length >= allLetters) return true;
        // Thrown, so that a timeout says how far it got.
        throw new Error(`${JSON.stringify(progress)}; dead letters read ${letters.length} of ${allLetters}`);
      },
      { timeoutMs: 45_000, intervalMs: 200, what: 'every record consumed and every dead letter written' },
    );
    expect((await getJson(engine.url('/healthz'))).status).toBe(200);
    expect(engine.child.exitCode).toBeNull();

    // The counters reconcile exactly with what was produced.
    const samples = await metricsOf(engine);
    for (const topic of ['fixes', 'readings'] as const) {
      const name = topics[topic];
      const outcomes = samples.filter(
        (s) => s.name === 'tot_stream_messages_total' && s.labels['topic'] === name,
      );
      expect(Object.fromEntries(outcomes.map((s) => [s.labels['outcome'], s.value])), topic).toEqual({
        applied: want[topic].applied,
        ...(want[topic].stale > 0 ? { stale: want[topic].stale } : {}),
        dead_letter: want[topic].letters,
      });
      const byReason = new Map<string, number>();
      for (const item of planned.filter((p) => p.topic === topic)) {
        for (const letter of item.letters)
          byReason.set(letter.reason, (byReason.get(letter.reason) ?? 0) + 1);
      }
      for (const [reason, count] of byReason) {
        expect(total(samples, 'tot_dead_letters_total', { topic: name, reason }), `${topic} ${reason}`).toBe(
          count,
        );
      }
      expect(total(samples, 'tot_dead_letters_total', { topic: name })).toBe(want[topic].letters);
    }

    // Exactly the expected letters, per message: reason, index, source topic; one partition and offset per message.
    expect(letters).toHaveLength(allLetters);
    const decoded = letters.map((record) => packr.unpack(record.value) as DeadLetter);
    const byKey = new Map<string, DeadLetter[]>();
    for (const letter of decoded) byKey.set(letter.key, [...(byKey.get(letter.key) ?? []), letter]);
    const origins = new Set<string>();
    for (const item of planned.filter((p) => p.letters.length > 0)) {
      const got = byKey.get(item.message.key) ?? [];
      const order = (a: Expected, b: Expected) => a.index - b.index || a.reason.localeCompare(b.reason);
      expect(got.map(({ reason, index }) => ({ reason, index })).sort(order), item.message.key).toEqual(
        [...item.letters].sort(order),
      );
      for (const letter of got) {
        expect(letter.topic).toBe(topics[item.topic]);
        expect(Number.isInteger(letter.offset) && letter.offset >= 0).toBe(true);
        expect(`${letter.partition}/${letter.offset}`).toBe(`${got[0]!.partition}/${got[0]!.offset}`);
        if (letter.reason === 'invalid' && letter.index >= 0) expect(letter.detail).toMatch(/^[A-Za-z()]+: /);
      }
      origins.add(`${got[0]!.topic}/${got[0]!.partition}/${got[0]!.offset}`);
    }
    expect(origins.size).toBe(planned.filter((p) => p.letters.length > 0).length);

    // Every good doctor is at its last good fix; the bad ones are nowhere.
    const lastFix = new Map<string, ReturnType<typeof goodFix>>();
    for (const item of planned.filter((p) => p.topic === 'fixes' && p.applied > 0)) {
      const value = packr.unpack(item.message.value) as unknown;
      for (const record of Array.isArray(value) ? value : [value]) {
        const parsed = fixSchema.safeParse(record);
        if (parsed.success && parsed.data.ts < Date.now())
          lastFix.set(parsed.data.doctorId, parsed.data as ReturnType<typeof goodFix>);
      }
    }
    expect(lastFix.size).toBe(40 + 6 * 3);
    for (const [doctorId, fix] of lastFix) {
      const response = await getJson(engine.url(`/v1/doctors/${doctorId}/position`));
      expect(response.status, doctorId).toBe(200);
      expect(response.body).toMatchObject({ id: doctorId, lat: fix.lat, lng: fix.lng, lastFixAt: fix.ts });
    }
    for (const doctorId of ['bad-doc', 'large-0']) {
      expect((await getJson(engine.url(`/v1/doctors/${doctorId}/position`))).status).toBe(404);
    }
  });
});
