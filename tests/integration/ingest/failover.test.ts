/**
 * Two engine processes in one consumer group on the real broker, each backing up its own state to Redis under its
 * own key (docs/SCALING.md says why). They split the partitions; one is killed with SIGKILL while fixes stream in; the
 * survivor takes over its partitions from the group's last commit (at-least-once) and ends with every doctor at the
 * last fix produced for that doctor — including doctors that had fallen quiet before the kill, whose last fix the dead
 * instance had already snapshotted (the commit is held back by the replay window for them).
 */
import { Admin } from '@platformatic/kafka';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeEnvelope, type SnapshotEnvelope } from '../../../engine/backup.ts';
import { topicNames } from '../../../engine/bus.ts';
import { encodeRecords } from '../../../ingest/codec.ts';
import { KafkaBus } from '../../../ingest/kafka-bus.ts';
import { getJson, type EngineProcess } from '../../support/engine-process.ts';
import { deleteTopics } from '../../support/kafka-topics.ts';
import { waitFor } from '../../support/wait.ts';
import {
  Cleanups,
  metricsOf,
  positionsOf,
  required,
  startKafkaEngine,
  total,
  uniqueRun,
} from './engine-under-test.ts';

const DOCTORS = 300;
/** Doctors [ACTIVE, DOCTORS) send their last fix a little before the kill, the others keep sending. */
const ACTIVE = 240;
const PARTITIONS = 6;
/** The offline timeout, hence the replay window of fixes: the survivor replays what was applied this long before. */
const WINDOW_MS = 5_000;

/** The partitions an instance was last assigned, from its log ('kafka: joined the consumer group'). */
function lastAssignment(engine: EngineProcess): { generation: number; assigned: string[] } | undefined {
  for (let i = engine.output.length - 1; i >= 0; i--) {
    const line = engine.output[i]!;
    if (!line.includes('joined the consumer group')) continue;
    const entry = JSON.parse(line) as { generation: number; assigned: string[] };
    return { generation: entry.generation, assigned: entry.assigned };
  }
  return undefined;
}

describe('two engine instances in one consumer group', () => {
  const cleanups = new Cleanups();
  afterEach(() => cleanups.run());

  it('survive the SIGKILL of one: the other takes over its partitions from the last commit and loses no fix', async () => {
    const run = uniqueRun('failover');
    const prefix = `test.${run}`;
    const topics = topicNames(prefix);
    const group = `engine-${run}`;
    // First registered, so it runs last: after both engines and the test's own clients are gone.
    cleanups.add(async () => {
      await deleteTopics(required('KAFKA_BROKERS'), { prefixes: [`${prefix}.`] });
    });
    const keys = { first: `tot:test:${run}:first`, second: `tot:test:${run}:second` };
    const redis = new Redis(required('REDIS_URL'));
    cleanups.add(async () => {
      await redis.del(keys.first, keys.second);
      redis.disconnect();
    });
    const common = {
      REDIS_URL: required('REDIS_URL'),
      TOPIC_PREFIX: prefix,
      KAFKA_GROUP: group,
      SNAPSHOT_INTERVAL_MS: '1000',
      OFFLINE_AFTER_MS: String(WINDOW_MS),
    };
    // The first instance owns every partition until the second joins; it is the one killed, so that the survivor
    // takes over partitions it never had and must start them from the group's commit.
    const first = await startKafkaEngine(cleanups, { ...common, SNAPSHOT_KEY: keys.first });
    const second = await startKafkaEngine(cleanups, { ...common, SNAPSHOT_KEY: keys.second });

    // Both members in the same generation, partitions split between them.
    const split = await waitFor(
      () => {
        const a = lastAssignment(first);
        const b = lastAssignment(second);
        if (!a || !b || a.generation !== b.generation || a.assigned.length === 0 || b.assigned.length === 0)
          return undefined;
        const union = new Set([...a.assigned, ...b.assigned]);
        return union.size === 2 * PARTITIONS && a.assigned.length + b.assigned.length === union.size
          ? { a, b }
          : undefined;
      },
      { timeoutMs: 30_000, what: 'partitions split between the two instances' },
    );
    const firstPartitions = split.a.assigned
      .filter((key) => key.startsWith(`${topics.fixes}:`))
      .map((key) => Number(key.slice(topics.fixes.length + 1)))
      .sort();
    expect(firstPartitions.length).toBeGreaterThan(0);
    expect(firstPartitions.length).toBeLessThan(PARTITIONS);

    const bus = new KafkaBus({ brokers: required('KAFKA_BROKERS').split(','), clientId: `producer-${run}` });
    cleanups.add(() => bus.close());
    const t0 = Date.now() - 60_000;
    const fixOf = (doctor: number, round: number) => ({
      doctorId: `doc-${doctor}`,
      lat: 55.6 + doctor / 10_000 + round / 100_000,
      lng: 37.5 + round / 100_000,
      ts: t0 + round,
    });
    /** The last round each doctor was sent. */
    const lastRound = new Map<number, number>();
    let rounds = 0;
    const produceRound = (from: number, to: number) => {
      const round = rounds++;
      const doctors = Array.from({ length: to - from }, (_, i) => from + i);
      for (const doctor of doctors) lastRound.set(doctor, round);
      return bus.publish(
        topics.fixes,
        doctors.map((doctor) => ({ key: `doc-${doctor}`, value: encodeRecords(fixOf(doctor, round)) })),
      );
    };
    let sent = 0;
    const send = async (from: number, to: number) => {
      await produceRound(from, to);
      sent += to - from;
    };
    const applied = async (engine: EngineProcess) =>
      total(await metricsOf(engine), 'tot_stream_messages_total', { topic: topics.fixes });

    // Phase 1: both consume; each applies only the partitions it was assigned.
    for (let i = 0; i < 10; i++) await send(0, DOCTORS);
    await waitFor(
      async () => ((await applied(first)) + (await applied(second)) === sent ? true : undefined),
      { timeoutMs: 20_000, what: 'phase 1 applied by the two instances' },
    );
    const owned = {
      first: [...positionsOf(await metricsOf(first), topics.fixes).keys()].sort(),
      second: [...positionsOf(await metricsOf(second), topics.fixes).keys()].sort(),
    };
    expect(owned.first).toEqual(firstPartitions);
    expect(new Set([...owned.first, ...owned.second]).size).toBe(PARTITIONS);
    expect(owned.first.length + owned.second.length).toBe(PARTITIONS);

    const admin = new Admin({
      clientId: `admin-${run}`,
      bootstrapBrokers: required('KAFKA_BROKERS').split(','),
    });
    cleanups.add(() => admin.close());
    const committed = async () => {
      const [entry] = await admin.listConsumerGroupOffsets({ groups: [group] });
      const offsets = new Map<number, number>();
      for (const topic of entry?.topics ?? []) {
        if (topic.name !== topics.fixes) continue;
        for (const partition of topic.partitions)
          offsets.set(partition.partitionIndex, Number(partition.committedOffset));
      }
      return offsets;
    };
    const snapshotOfFirst = async (): Promise<SnapshotEnvelope | undefined> => {
      const bytes = await redis.getBuffer(keys.first);
      return bytes ? decodeEnvelope(bytes) : undefined;
    };

    // Phase 2: the active doctors keep sending until after the kill.
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await send(0, ACTIVE);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    // The first instance commits once a whole replay window of its own has passed, and only up to what it applied
    // within the window before.
    await waitFor(
      async () => {
        const offsets = await committed();
        return firstPartitions.every((p) => (offsets.get(p) ?? 0) > 0) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'commits of the first instance' },
    );

    // The quiet doctors send their last fix, which the first instance applies and snapshots; then it dies, within the
    // replay window of that fix.
    await send(ACTIVE, DOCTORS);
    const quietAt = (engine: EngineProcess, doctor: number) =>
      getJson(engine.url(`/v1/doctors/doc-${doctor}/position`)).then(
        (response) => (response.body as { lastFixAt?: number } | undefined)?.lastFixAt,
      );
    await waitFor(
      async () => {
        for (let doctor = ACTIVE; doctor < DOCTORS; doctor++) {
          const ts = fixOf(doctor, lastRound.get(doctor)!).ts;
          if ((await quietAt(first, doctor)) !== ts && (await quietAt(second, doctor)) !== ts)
            return undefined;
        }
        return true;
      },
      { timeoutMs: 10_000, what: 'the quiet doctors last fixes applied' },
    );
    const appliedBeforeKill = positionsOf(await metricsOf(first), topics.fixes);
    const covering = await waitFor(
      async () => {
        const envelope = await snapshotOfFirst();
        const positions = envelope?.positions[topics.fixes];
        return positions && firstPartitions.every((p) => positions[p]! >= appliedBeforeKill.get(p)!)
          ? envelope
          : undefined;
      },
      { timeoutMs: 10_000, what: 'a snapshot of the first instance covering the quiet fixes' },
    );
    // One snapshot later, the commit that followed the covering snapshot has been made.
    await waitFor(async () => ((await snapshotOfFirst())!.takenAt > covering.takenAt ? true : undefined), {
      what: 'the next snapshot of the first instance',
    });
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // Keep producing for a while, then a last round for the active doctors, all before the survivor owns the dead
    // one's partitions (the broker waits for the session timeout): it must read them from the commit.
    const roundsAtDeath = rounds;
    await waitFor(() => (rounds >= roundsAtDeath + 15 ? true : undefined), {
      what: 'production after the kill',
    });
    producing = false;
    await producer;
    await send(0, ACTIVE);
    expect(lastAssignment(second)!.assigned.length).toBeLessThan(2 * PARTITIONS);

    // What the dead instance left (nobody else may commit its partitions yet): commits within its last snapshot, and
    // held back below the quiet doctors' last fixes although that snapshot covers them.
    const commitAtDeath = await committed();
    const lastSnapshot = (await snapshotOfFirst())!;
    for (const partition of firstPartitions) {
      const commit = commitAtDeath.get(partition)!;
      expect(commit).toBeGreaterThan(0);
      expect(commit).toBeLessThan(appliedBeforeKill.get(partition)!);
      expect(commit).toBeLessThanOrEqual(lastSnapshot.positions[topics.fixes]![partition]!);
    }

    await waitFor(() => (lastAssignment(second)?.assigned.length === 2 * PARTITIONS ? true : undefined), {
      timeoutMs: 40_000,
      intervalMs: 200,
      what: 'the survivor owning every partition',
    });
    // Every partition read to its end: the ends add up to the number of fixes produced.
    const final = await waitFor(
      async () => {
        const samples = await metricsOf(second);
        const positions = positionsOf(samples, topics.fixes);
        const seen = total(samples, 'tot_stream_messages_total', { topic: topics.fixes });
        const end = [...positions.values()].reduce((sum, next) => sum + next, 0);
        return positions.size === PARTITIONS && end === sent ? { positions, seen } : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'the survivor reading every partition to its end' },
    );

    // At-least-once from the commit, exactly: the survivor read its own partitions from the start and the dead
    // one's from the commit it left.
    const expectedSeen = [...final.positions].reduce(
      (sum, [partition, end]) =>
        sum + end - (firstPartitions.includes(partition) ? commitAtDeath.get(partition)! : 0),
      0,
    );
    expect(final.seen).toBe(expectedSeen);

    // No fix lost: every doctor, quiet or active, is where its last fix put it.
    for (let doctor = 0; doctor < DOCTORS; doctor++) {
      const fix = fixOf(doctor, lastRound.get(doctor)!);
      const response = await getJson(second.url(`/v1/doctors/${fix.doctorId}/position`));
      expect(response.status, fix.doctorId).toBe(200);
      expect(response.body, fix.doctorId).toMatchObject({ lat: fix.lat, lng: fix.lng, lastFixAt: fix.ts });
    }
    // The survivor backs up its own state, now with every partition.
    await waitFor(
      async () => {
        const bytes = await redis.getBuffer(keys.second);
        const positions = bytes ? decodeEnvelope(bytes).positions[topics.fixes] : undefined;
        return positions && Object.keys(positions).length === PARTITIONS ? true : undefined;
      },
      { what: 'the survivor snapshot covering every partition' },
    );
  });
});
