import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../../engine/engine.ts';
import { InProcessBus } from '../../../engine/in-process-bus.ts';
import { createLogger } from '../../../engine/logger.ts';
import { Metrics } from '../../../engine/metrics.ts';

const start = Date.UTC(2026, 10, 22, 8, 0, 0);

describe('Engine.applyReading with registered sensor positions', () => {
  const buses: InProcessBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  function setup() {
    const bus = new InProcessBus();
    buses.push(bus);
    const registered = new Map([['det-known', { lat: 55.75, lng: 37.61 }]]);
    return new Engine({
      bus,
      logger: createLogger('silent'),
      metrics: new Metrics({ processMetrics: false }),
      clock: () => start,
      sensorPosition: (id) => registered.get(id),
    });
  }

  it('places a reading without lat/lng at its registered detector', () => {
    const engine = setup();
    expect(engine.applyReading({ detectorId: 'det-known', ts: start, speedKmh: 12 }, start)).toBe('applied');
    expect(engine.traffic.speedAt({ lat: 55.75, lng: 37.61 }, start)).toBeCloseTo(12, 6);
  });

  it('keeps a reading’s own position over the registered one', () => {
    const engine = setup();
    engine.applyReading({ detectorId: 'det-known', ts: start, speedKmh: 12, lat: 55.9, lng: 37.9 }, start);
    expect(engine.traffic.speedAt({ lat: 55.9, lng: 37.9 }, start)).toBeCloseTo(12, 6);
    expect(engine.traffic.speedAt({ lat: 55.75, lng: 37.61 }, start)).not.toBeCloseTo(12, 6);
  });

  it('still rejects a reading without a position from an unknown detector (a dead letter)', () => {
    const engine = setup();
    expect(() => engine.applyReading({ detectorId: 'det-unknown', ts: start, speedKmh: 12 }, start)).toThrow(
      expect.objectContaining({
        code: 'GEO_INVALID_READING',
        details: expect.objectContaining({ field: 'lat' }),
      }),
    );
  });
});
