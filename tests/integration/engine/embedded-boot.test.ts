import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, startEngineProcess, type EngineProcess } from '../../support/engine-process.ts';
import { waitFor } from '../../support/wait.ts';

describe('the embedded default (no Kafka, PostgreSQL or Redis)', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('boots, answers /healthz at once and /readyz once ready, shows a living city, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tot-embedded-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const engine: EngineProcess = await startEngineProcess({
      DATA_DIR: dataDir,
      SIMULATOR_DOCTORS: '300',
      SIMULATOR_DETECTORS: '20',
      SNAPSHOT_INTERVAL_MS: '60000',
    });
    cleanups.push(() => engine.child.kill('SIGKILL'));

    expect(await getJson(engine.url('/healthz'))).toEqual({ status: 200, body: { status: 'ok' } });

    const ready = await waitFor(
      async () => {
        const response = await getJson(engine.url('/readyz'));
        return response.status === 200 ? response.body : undefined;
      },
      { timeoutMs: 60_000, what: '/readyz 200' },
    );
    expect(ready).toMatchObject({
      status: 'ready',
      parts: {
        bus: { kind: 'in-process', state: 'ready' },
        store: { kind: 'pglite', state: 'ready' },
        backup: { kind: 'file', state: 'ready' },
      },
    });

    // The simulator's doctors arrive through the bus and the stream consumer into the index.
    const nearby = await waitFor(
      async () => {
        const response = await getJson(engine.url('/v1/doctors/nearby?lat=55.75&lng=37.6&k=5&maxKm=50'));
        const body = response.body as { doctors: { distanceKm: number }[] };
        return body.doctors.length === 5 ? body.doctors : undefined;
      },
      { timeoutMs: 30_000, what: 'simulated doctors nearby' },
    );
    const distances = nearby.map((doctor) => doctor.distanceKm);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));

    // Applied fixes are recorded in the location history (PGlite with PostGIS) and come back as a GeoJSON track.
    const doctorId = (nearby[0] as unknown as { id: string }).id;
    const track = await waitFor(
      async () => {
        const response = await getJson(engine.url(`/v1/doctors/${doctorId}/track`));
        const body = response.body as {
          geometry: { type: string; coordinates: number[][] };
          properties: { timestamps: number[] };
        };
        return response.status === 200 && body.geometry.coordinates.length > 0 ? body : undefined;
      },
      { timeoutMs: 20_000, what: 'a recorded track' },
    );
    expect(track.geometry.type).toBe('LineString');
    expect(track.properties.timestamps).toHaveLength(track.geometry.coordinates.length);

    // The simulator's detectors are registered as traffic sensors (PGlite with PostGIS), each with its estimate.
    const sensors = await getJson(engine.url('/v1/traffic/sensors?kind=detector&limit=100'));
    expect(sensors.status).toBe(200);
    const listed = (
      sensors.body as { sensors: { id: string; kind: string; traffic: { speedKmh: number } }[] }
    ).sensors;
    expect(listed).toHaveLength(20);
    expect(listed[0]).toMatchObject({ id: 'det-0001', kind: 'detector' });
    expect(listed[0]!.traffic.speedKmh).toBeGreaterThan(0);

    const metrics = await fetch(engine.url('/metrics'));
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toMatch(
      /tot_stream_messages_total\{topic="tot.fixes",outcome="applied"\} [1-9]/,
    );

    const signalledAt = Date.now();
    engine.child.kill('SIGTERM');
    const exit = await engine.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    // The shutdown snapshot is the state a restart resumes from.
    expect(existsSync(path.join(dataDir, 'snapshot.msgpack'))).toBe(true);
  });

  it('refuses to start on a bad variable, naming it', async () => {
    await expect(startEngineProcess({ PORT: 'abc' }, 20_000)).rejects.toThrow(
      /PORT="abc": must be a whole number/,
    );
    await expect(startEngineProcess({ DATABASE_URL: 'mysql://x@y/z' }, 20_000)).rejects.toThrow(
      /DATABASE_URL=/,
    );
  });
});
