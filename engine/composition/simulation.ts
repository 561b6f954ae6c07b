/**
 * The embedded default's city (part of the composition root): the city simulator's doctors and detectors, and — when
 * the dispatcher runs — simulated patients booking through it and simulated phones answering its offers. Fixes and
 * readings go out on the bus like any producer's, so the city takes the same path as real phones and detectors.
 */
import type { DispatchService } from '../../dispatch/booking-types.ts';
import { DemoCity } from '../../dispatch/simulation/demo-city.ts';
import type { RoutedOfferChannel } from '../../dispatch/simulation/routed-channel.ts';
import { encodeRecords } from '../../ingest/codec.ts';
import type { Bus, TopicNames } from '../bus.ts';
import type { Config } from '../config.ts';
import type { Engine } from '../engine.ts';
import type { Logger } from '../logger.ts';
import { CitySimulator, startSimulator, type SimulatorHandle } from '../simulator/index.ts';
import type { TrafficSensorRegistry } from '../traffic-sensors.ts';

/** What {@link startCity} needs. */
export interface CityOptions {
  config: Config;
  engine: Engine;
  bus: Bus;
  topics: TopicNames;
  clock: () => number;
  speedUp: number;
  sensors: TrafficSensorRegistry;
  logger: Logger;
  /** The running dispatcher; without one the city only wanders and nobody books. */
  dispatcher: DispatchService | undefined;
  /** The dispatcher's offer channel, told which doctors are simulated. */
  doctorChannel: RoutedOfferChannel;
}

/**
 * Registers the simulated doctors and detectors and starts the city; resolves with its handle (stop it at shutdown),
 * or undefined when SIMULATOR is off.
 */
export async function startCity(options: CityOptions): Promise<SimulatorHandle | undefined> {
  const { config, engine, bus, topics, clock, logger, dispatcher } = options;
  if (!config.SIMULATOR) return undefined;
  const sim = new CitySimulator({
    doctors: config.SIMULATOR_DOCTORS,
    detectors: config.SIMULATOR_DETECTORS,
    seed: config.SIMULATOR_SEED,
    tickMs: config.SIMULATOR_TICK_MS,
    speedUp: options.speedUp,
  });
  const demo = dispatcher
    ? new DemoCity({
        city: sim,
        traffic: () => engine.traffic,
        bookingsPerHour: config.SIMULATOR_BOOKINGS_PER_HOUR,
        onError: (error) => logger.warn({ err: error }, 'simulated booking step failed'),
      })
    : undefined;
  if (demo && dispatcher) {
    demo.connect(dispatcher);
    options.doctorChannel.useSimulated(demo.phones);
    // Visits restored from the store for simulated doctors go on where they were, instead of holding them for good.
    const resumed = demo.resume(dispatcher.active(), clock());
    if (resumed > 0) logger.info({ resumed }, 'simulated visits resumed');
  }
  for (const doctor of sim.doctors()) {
    engine.fleet.register(
      {
        id: doctor.doctorId,
        specializations: doctor.specializations,
        clinicId: doctor.clinicId,
        rating: doctor.rating,
      },
      clock(),
    );
  }
  // Registered before the first reading, so that the embedded default lists its detectors and places their readings.
  try {
    const count = await options.sensors.upsertMany(
      sim.detectors().map((detector) => ({
        id: detector.detectorId,
        kind: 'detector' as const,
        lat: detector.lat,
        lng: detector.lng,
        name: `simulated detector ${detector.detectorId}`,
      })),
    );
    logger.info({ count }, 'simulated detectors registered');
  } catch (error) {
    logger.warn({ err: error }, 'simulated detectors not registered');
  }
  const handle = startSimulator(
    sim,
    async (step, now) => {
      // The phones' fixes take the simulator's path: the fixes topic, then the stream consumer.
      const phoneFixes = (await demo?.step(now)) ?? [];
      await publishEach(bus, topics.fixes, [...step.fixes, ...phoneFixes], (fix) => fix.doctorId);
      await publishEach(bus, topics.readings, step.readings, (reading) => reading.detectorId);
      for (const change of step.duty) engine.fleet.setDuty(change.doctorId, change.onDuty, clock());
    },
    { startAt: clock(), onError: (error) => logger.warn({ err: error }, 'simulator step failed') },
  );
  logger.info(
    {
      doctors: config.SIMULATOR_DOCTORS,
      detectors: config.SIMULATOR_DETECTORS,
      speedUp: options.speedUp,
      bookingsPerHour: demo ? config.SIMULATOR_BOOKINGS_PER_HOUR : 0,
    },
    'city simulator running',
  );
  return handle;
}

/** Publishes each record as its own msgpack message keyed by its source, so one source's records stay in order. */
async function publishEach<Item>(
  bus: Bus,
  topic: string,
  items: readonly Item[],
  keyOf: (item: Item) => string,
): Promise<void> {
  if (items.length === 0) return;
  await bus.publish(
    topic,
    items.map((item) => ({ key: keyOf(item), value: encodeRecords(item) })),
  );
}
