/**
 * The streams of the composition root: restore the fleet from the last snapshot, then consume the bus from the
 * positions that snapshot reflects, and snapshot periodically (committing those positions once saved).
 */
import { TotError } from '../../geo/errors.ts';
import { StreamConsumer } from '../../ingest/stream-consumer.ts';
import type { Backup } from '../backup.ts';
import type { Bus, StreamPositions, TopicNames } from '../bus.ts';
import type { Config } from '../config.ts';
import type { Engine } from '../engine.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

/** What {@link startStreams} needs. */
export interface StreamsOptions {
  config: Config;
  engine: Engine;
  bus: Bus;
  backup: Backup;
  topics: TopicNames;
  clock: () => number;
  logger: Logger;
  metrics: Metrics;
  /** True once shutdown began: waiting for the backup stops, and nothing starts consuming. */
  stopRequested: () => boolean;
}

/**
 * Restores, then starts consuming and snapshotting. Resolves with the consumer, or undefined when shutdown began
 * first. While the backup store is unreachable it waits (retrying every 500 ms) rather than start empty, which would
 * overwrite a good snapshot; an unreadable snapshot cannot get better by waiting, so the fleet then starts empty and
 * the streams refill it.
 */
export async function startStreams(options: StreamsOptions): Promise<StreamConsumer | undefined> {
  const { config, engine, bus, backup, logger } = options;
  let from: StreamPositions | undefined;
  for (let attempt = 1; !options.stopRequested(); attempt++) {
    try {
      const envelope = await backup.load();
      if (envelope) {
        from = engine.restore(envelope);
        logger.info(
          { doctors: engine.fleet.size, takenAt: new Date(envelope.takenAt).toISOString() },
          'fleet restored',
        );
      }
      break;
    } catch (error) {
      if (error instanceof TotError) {
        logger.error(
          { err: error, backup: backup.kind },
          'snapshot unreadable; starting with an empty fleet',
        );
        break;
      }
      if (attempt === 1 || attempt % 10 === 0) {
        logger.warn(
          { err: error, backup: backup.kind, attempt },
          'backup unreachable; waiting to restore before consuming',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  if (options.stopRequested()) return undefined;
  const consumer = new StreamConsumer({
    bus,
    sink: engine,
    logger,
    metrics: options.metrics,
    group: config.KAFKA_GROUP,
    topics: options.topics,
    clock: options.clock,
  });
  engine.onSnapshotSaved((positions) => consumer.commit(positions));
  // The snapshot's positions are offsets of the bus that was running when it was taken. The in-process bus starts
  // empty in every process, so its offsets begin at 0 again and resuming at the old ones would skip every new record
  // (phone fixes sent after a restart) until the offsets caught up; it is read from its start instead.
  await consumer.start(bus.kind === 'in-process' ? undefined : from);
  engine.start(backup, config.SNAPSHOT_INTERVAL_MS);
  logger.info({ bus: bus.kind, backup: backup.kind }, 'streams consuming');
  return consumer;
}
