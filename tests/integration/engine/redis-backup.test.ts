import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisBackup, REDIS_CHUNK_BYTES } from '../../../engine/backup-redis.ts';
import { decodeEnvelope, encodeEnvelope, type SnapshotEnvelope } from '../../../engine/backup.ts';
import { Fleet, type DoctorView } from '../../../engine/fleet.ts';
import { getJson, startEngineProcess, waitUntilReady } from '../../support/engine-process.ts';
import { waitFor } from '../../support/wait.ts';

const redisUrl = () => {
  const url = process.env['REDIS_URL'];
  if (!url) throw new Error('REDIS_URL is not set: the integration global setup starts Redis');
  return url;
};

describe('the Redis backup', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const temporaryDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tot-backup-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };

  it('restores, after a SIGKILL, exactly the fleet of the last snapshot', async () => {
    const key = `tot:test:snapshot:${process.pid}:${Date.now()}`;
    const redis = new Redis(redisUrl());
    cleanups.push(async () => {
      await redis.del(key);
      redis.disconnect();
    });
    const common = {
      REDIS_URL: redisUrl(),
      SNAPSHOT_KEY: key,
      PGLITE_IN_MEMORY: 'true',
      // Nobody goes offline between the kill and the comparison.
      OFFLINE_AFTER_MS: '3600000',
      // No demo bookings: a booking holding a doctor at the snapshot is released by the dispatcher's restore (this
      // second process keeps its bookings in memory), which is right but not what this test compares.
      SIMULATOR_BOOKINGS_PER_HOUR: '0',
    };
    const first = await startEngineProcess({
      ...common,
      DATA_DIR: temporaryDir(),
      SIMULATOR_DOCTORS: '400',
      SIMULATOR_DETECTORS: '20',
      SNAPSHOT_INTERVAL_MS: '1000',
    });
    cleanups.push(() => void first.child.kill('SIGKILL'));

    // Wait for a snapshot in which most doctors have a position (off-duty doctors send no fixes).
    await waitFor(
      async () => {
        const bytes = await redis.getBuffer(key);
        if (!bytes) return undefined;
        const fleet = Fleet.fromSnapshot(decodeEnvelope(bytes).fleet);
        return fleet.ids().filter((id) => fleet.get(id)?.lat !== undefined).length >= 250 ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'a snapshot with 250 placed doctors' },
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // The last snapshot written before the kill is what a restart must restore.
    const envelope = decodeEnvelope((await redis.getBuffer(key))!);
    const expected = Fleet.fromSnapshot(envelope.fleet);
    expect(Object.keys(envelope.positions)).toContain('tot.fixes');

    const second = await startEngineProcess({ ...common, DATA_DIR: temporaryDir(), SIMULATOR: 'false' });
    cleanups.push(() => void second.child.kill('SIGKILL'));
    await waitUntilReady(second, 60_000);

    const pick = (doctor: DoctorView) => ({
      id: doctor.id,
      lat: doctor.lat,
      lng: doctor.lng,
      status: doctor.status,
      lastFixAt: doctor.lastFixAt,
      heading: doctor.heading,
      speed: doctor.speed,
      accuracy: doctor.accuracy,
      specializations: doctor.specializations,
      clinicId: doctor.clinicId,
      rating: doctor.rating,
    });
    const ids = expected.ids();
    expect(ids).toHaveLength(400);
    let placed = 0;
    for (const id of ids) {
      const response = await getJson(second.url(`/v1/doctors/${encodeURIComponent(id)}/position`));
      if (expected.get(id)!.lat === undefined) {
        expect(response.status).toBe(404);
        continue;
      }
      placed++;
      expect(response.status).toBe(200);
      expect(pick(response.body as DoctorView)).toEqual(pick(expected.get(id)!));
    }
    expect(placed).toBeGreaterThanOrEqual(250);
  });

  it('writes a snapshot larger than a command part in parts, and readers only ever see a whole one', async () => {
    const key = `tot:test:snapshot:parts:${process.pid}:${Date.now()}`;
    const redis = new Redis(redisUrl());
    const backup = new RedisBackup(redisUrl(), key);
    cleanups.push(async () => {
      await backup.close();
      const leftovers = await redis.keys(`${key}*`);
      if (leftovers.length > 0) await redis.del(...leftovers);
      redis.disconnect();
    });
    await backup.ready();
    const envelopeOf = (fill: number, bytes: number): SnapshotEnvelope => ({
      version: 1,
      takenAt: fill,
      positions: { 'tot.fixes': { 0: fill } },
      fleet: new Uint8Array(bytes).map((_, i) => (i * 7 + fill) & 0xff),
      traffic: { version: 1, resolution: 8, cells: [], detectors: [] },
    });
    const small = envelopeOf(1, 1_000);
    await backup.save(small);
    expect(await backup.load()).toEqual(small);

    // 3.5 parts: a SET and three APPENDs under a temporary key, then a rename over the snapshot.
    const large = envelopeOf(2, Math.floor(REDIS_CHUNK_BYTES * 3.5));
    const encoded = encodeEnvelope(large);
    const seen = new Set<number>();
    let saving = true;
    const reader = (async () => {
      while (saving) {
        const bytes = await redis.getBuffer(key);
        if (bytes) seen.add(decodeEnvelope(bytes).takenAt);
      }
    })();
    await backup.save(large, encoded);
    saving = false;
    await reader;
    expect([...seen].every((takenAt) => takenAt === 1 || takenAt === 2)).toBe(true);
    // Buffer.equals: a deep equality over 3.5 MB, element by element, would take seconds.
    expect(Buffer.from(encoded).equals((await redis.getBuffer(key))!)).toBe(true);
    expect(await redis.pttl(key)).toBe(-1);
    expect(await redis.keys(`${key}:*`)).toEqual([]);

    // A part that went missing (the temporary key expired mid-way) fails the save and leaves the snapshot as it was.
    const client = backup['redis'];
    const append = client.append.bind(client);
    let appends = 0;
    client.append = (async (partial: string, part: Buffer) => {
      if (++appends === 2) await redis.del(partial);
      return append(partial, part);
    }) as typeof client.append;
    await expect(backup.save(envelopeOf(3, REDIS_CHUNK_BYTES * 3))).rejects.toThrow(
      /snapshot part lost in Redis/,
    );
    expect(decodeEnvelope((await redis.getBuffer(key))!).takenAt).toBe(2);
  });

  it('keeps serving while Redis is down, says degraded, and saves again when Redis returns', async () => {
    const port = await freePort();
    const dir = temporaryDir();
    let redisServer = startRedis(port, dir);
    cleanups.push(() => void redisServer.kill('SIGKILL'));
    const url = `redis://127.0.0.1:${port}`;
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
    probe.on('error', () => {});
    cleanups.push(() => probe.disconnect());
    await waitFor(async () => ((await probe.ping().catch(() => undefined)) === 'PONG' ? true : undefined), {
      what: 'test Redis up',
    });

    const engine = await startEngineProcess({
      REDIS_URL: url,
      PGLITE_IN_MEMORY: 'true',
      DATA_DIR: temporaryDir(),
      SIMULATOR_DOCTORS: '100',
      SIMULATOR_DETECTORS: '5',
      SNAPSHOT_INTERVAL_MS: '1000',
    });
    cleanups.push(() => void engine.child.kill('SIGKILL'));
    const readyz = async () =>
      (await getJson(engine.url('/readyz'))).body as { status: string; parts: { backup: { state: string } } };
    await waitFor(async () => ((await readyz()).status === 'ready' ? true : undefined), {
      timeoutMs: 60_000,
      what: 'ready',
    });
    await waitFor(async () => ((await probe.exists('tot:snapshot:all')) === 1 ? true : undefined), {
      what: 'first snapshot',
    });
    const nearbyCount = async () =>
      (
        (await getJson(engine.url('/v1/doctors/nearby?lat=55.75&lng=37.6&k=3&maxKm=100'))).body as {
          doctors: unknown[];
        }
      ).doctors.length;
    await waitFor(async () => ((await nearbyCount()) === 3 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'doctors placed',
    });

    redisServer.kill('SIGKILL');
    await waitFor(async () => ((await readyz()).status === 'degraded' ? true : undefined), {
      what: 'degraded',
    });
    expect((await readyz()).parts.backup.state).toBe('degraded');
    // The fleet is in memory: queries still answer.
    expect(await nearbyCount()).toBe(3);

    // A fresh Redis (no data): the engine reconnects and its next periodic snapshot fills it.
    redisServer = startRedis(port, dir);
    await waitFor(async () => ((await readyz()).status === 'ready' ? true : undefined), {
      timeoutMs: 20_000,
      what: 'ready again',
    });
    await waitFor(
      async () => ((await probe.exists('tot:snapshot:all').catch(() => 0)) === 1 ? true : undefined),
      {
        timeoutMs: 20_000,
        what: 'snapshot saved after Redis returned',
      },
    );
  });
});

function startRedis(port: number, dir: string): ChildProcess {
  return spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
