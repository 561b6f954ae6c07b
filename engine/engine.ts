import { Packr } from 'msgpackr';
import {
  TrafficField,
  type LatLng,
  type TrafficFieldOptions,
  type TrafficReading,
} from '../geo/traffic-field.ts';
import { TotError } from '../geo/errors.ts';
import type { SnapshotEnvelope, Backup } from './backup.ts';
import { TOPICS, type Bus, type PartState, type StreamPositions, type TopicNames } from './bus.ts';
import { DOCTOR_STATUSES, Fleet, type FleetEvent, type Fix, type FleetOptions } from './fleet.ts';
import type { LocationHistory } from './location-history.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { type EncodedSnapshot, SnapshotEncoder, type SnapshotSubject } from './snapshot-encoder.ts';

/** Options of {@link Engine}. */
export interface EngineOptions {
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  fleet?: FleetOptions;
  traffic?: TrafficFieldOptions;
  /** The engine's clock, ms since the epoch. Default `Date.now`. */
  clock?: () => number;
  /** Topic names; default {@link TOPICS}. */
  topics?: TopicNames;
  /** How often the offline sweep runs, ms. Default 1000. */
  sweepIntervalMs?: number;
  /** Where applied fixes are recorded; none when omitted. */
  history?: LocationHistory;
  /** How often the history is flushed, ms. Default 1000. */
  historyFlushMs?: number;
  /** Days of history kept (older daily partitions are dropped). Default 30. */
  historyRetentionDays?: number;
  /**
   * The registered position of a detector (engine/traffic-sensors.ts), used to place a reading that carries no
   * lat/lng. Must be cheap: it runs for every such reading.
   */
  sensorPosition?: (detectorId: string) => LatLng | undefined;
  /**
   * Encodes the periodic snapshots off the event loop (engine/snapshot-encoder.ts); default: a SnapshotEncoder with
   * its own worker thread, stopped by {@link Engine.stop}.
   */
  snapshotEncoder?: SnapshotEncoder;
}

/** Called after a snapshot reached the backup, with the stream positions it covers (ingest commits them). */
export type SnapshotListener = (positions: StreamPositions) => void | Promise<void>;

const eventPackr = new Packr({ useRecords: false });

/**
 * The live state and its lifecycle: the fleet and the traffic field, fed by the stream consumer, swept for doctors
 * gone silent, snapshotted with the stream positions they reflect, and restored from the last snapshot at boot.
 */
export class Engine {
  fleet: Fleet;
  traffic: TrafficField;
  private readonly clock: () => number;
  private readonly positions: StreamPositions = {};
  private readonly snapshotListeners: SnapshotListener[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private historyTimer: NodeJS.Timeout | undefined;
  private snapshotInFlight: Promise<void> | undefined;
  private pendingEvents: FleetEvent[] = [];
  private nextPruneAt = 0;
  private readonly encoder: SnapshotEncoder;
  private readonly snapshotSubject: SnapshotSubject = {
    fleet: () => this.fleet,
    envelopeParts: () => ({
      takenAt: this.clock(),
      positions: this.appliedPositions(),
      traffic: this.traffic.toSnapshot(),
    }),
  };

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock ?? Date.now;
    this.fleet = new Fleet(options.fleet);
    this.traffic = new TrafficField(options.traffic);
    this.encoder = options.snapshotEncoder ?? new SnapshotEncoder();
  }

  /** The engine's current time. */
  now(): number {
    return this.clock();
  }

  /**
   * Applies a fix (idempotent: stale fixes change nothing) and records it in the history when it moved the fleet; the
   * outcome is counted by the caller.
   */
  applyFix(fix: Fix, now: number): string {
    const outcome = this.fleet.applyFix(fix, now);
    if (outcome === 'applied') this.options.history?.append(fix);
    return outcome;
  }

  /**
   * Applies a detector reading to the traffic field. A reading without lat/lng takes its detector's registered
   * position (`sensorPosition`); failing that, the traffic field uses the position of the detector's earlier readings.
   *
   * @throws TotError `GEO_INVALID_READING` when the reading is out of range, or has no position and its detector none
   *   known; the stream consumer dead-letters it.
   */
  applyReading(reading: TrafficReading, _now: number): string {
    if (reading.lat == null && reading.lng == null && this.options.sensorPosition) {
      const position = this.options.sensorPosition(reading.detectorId);
      if (position) return this.traffic.apply({ ...reading, lat: position.lat, lng: position.lng });
    }
    return this.traffic.apply(reading);
  }

  /** Records that the stream consumer applied everything of a partition before `nextOffset`. */
  markApplied(topic: string, partition: number, nextOffset: number): void {
    const byPartition = (this.positions[topic] ??= {});
    byPartition[partition] = nextOffset;
  }

  /**
   * How far back, in time applied, a new owner of a partition of `topic` must replay for its state to be whole: a
   * doctor silent for longer than the offline timeout is offline already, and a reading older than the traffic field's
   * horizon no longer counts. The stream consumer holds the group's commits back by this much (docs/SCALING.md).
   */
  replayWindowMs(topic: string): number {
    const topics = this.options.topics ?? TOPICS;
    if (topic === topics.fixes) return this.fleet.offlineAfterMs;
    if (topic === topics.readings) return this.traffic.maxAgeMs + this.traffic.fadeMs;
    return 0;
  }

  /** A copy of the positions applied so far. */
  appliedPositions(): StreamPositions {
    return structuredClone(this.positions);
  }

  /** Registers a listener for saved snapshots. */
  onSnapshotSaved(listener: SnapshotListener): void {
    this.snapshotListeners.push(listener);
  }

  /**
   * The whole live state with the positions it reflects, encoded in the calling thread (a pause of the event loop
   * proportional to the fleet; {@link saveSnapshot} encodes off it).
   */
  snapshot(): SnapshotEnvelope {
    return {
      version: 1,
      takenAt: this.clock(),
      positions: this.appliedPositions(),
      fleet: this.fleet.toSnapshot(),
      traffic: this.traffic.toSnapshot(),
    };
  }

  /**
   * Replaces the live state with a snapshot's and returns the positions to resume the streams from.
   *
   * @throws TotError `ENGINE_INVALID_SNAPSHOT` when the fleet part cannot be decoded; the state is left unchanged.
   */
  restore(envelope: SnapshotEnvelope): StreamPositions {
    const fleet = Fleet.fromSnapshot(envelope.fleet, this.options.fleet);
    const traffic = TrafficField.fromSnapshot(envelope.traffic, this.options.traffic);
    this.fleet = fleet;
    this.traffic = traffic;
    for (const key of Object.keys(this.positions)) delete this.positions[key];
    Object.assign(this.positions, structuredClone(envelope.positions));
    return envelope.positions;
  }

  /**
   * Saves a snapshot to `backup`, then tells the listeners (one that fails is logged; it does not fail the save). One
   * save at a time; a call during a save waits for it. The state and the positions are captured together in one
   * synchronous step and encoded on the encoder's worker while the engine goes on; a snapshot that cannot be encoded
   * or stored is counted as failed and logged, and the engine keeps serving from memory.
   */
  async saveSnapshot(backup: Backup): Promise<void> {
    if (this.snapshotInFlight) return this.snapshotInFlight;
    const { metrics, logger } = this.options;
    const run = async () => {
      const stop = metrics.snapshotSeconds.startTimer();
      let encoded: EncodedSnapshot | undefined;
      try {
        encoded = await this.encoder.encode(this.snapshotSubject);
        try {
          await backup.save(encoded.envelope, encoded.bytes);
        } finally {
          if (backup.releasesBytes === true) this.encoder.recycle(encoded);
        }
        metrics.snapshots.inc({ outcome: 'ok' });
      } catch (error) {
        metrics.snapshots.inc({ outcome: 'failed' });
        logger.warn(
          { err: error, backup: backup.kind, stage: encoded === undefined ? 'encode' : 'save' },
          'snapshot not saved; the engine keeps serving from memory',
        );
        return;
      } finally {
        stop();
      }
      for (const listener of this.snapshotListeners) {
        // A commit refused during a rebalance is no reason to fail the snapshot: the next one commits again.
        try {
          await listener(encoded.envelope.positions);
        } catch (error) {
          logger.warn({ err: error }, 'a snapshot listener failed; the next snapshot retries');
        }
      }
    };
    this.snapshotInFlight = run().finally(() => {
      this.snapshotInFlight = undefined;
    });
    return this.snapshotInFlight;
  }

  /** Starts the offline sweep and, when a backup is given, periodic snapshots (and their worker, at once). */
  start(backup?: Backup, snapshotIntervalMs = 10_000): void {
    this.encoder.open();
    const sweepMs = this.options.sweepIntervalMs ?? 1_000;
    this.sweepTimer = setInterval(() => void this.sweep(), sweepMs);
    this.sweepTimer.unref();
    if (backup) {
      this.encoder.startWorker();
      this.snapshotTimer = setInterval(() => void this.saveSnapshot(backup), snapshotIntervalMs);
      this.snapshotTimer.unref();
    }
    if (this.options.history) {
      this.historyTimer = setInterval(() => void this.flushHistory(), this.options.historyFlushMs ?? 1_000);
      this.historyTimer.unref();
    }
  }

  /** Writes the buffered history; failures are logged and counted, the rows stay buffered for the next flush. */
  async flushHistory(): Promise<void> {
    const history = this.options.history;
    if (!history) return;
    const { metrics, logger } = this.options;
    const now = this.clock();
    try {
      metrics.historyRows.inc({ outcome: 'written' }, await history.flush(now));
      if (now >= this.nextPruneAt) {
        const dropped = await history.prune(now, this.options.historyRetentionDays ?? 30);
        // Only once it has run: a prune the store refused is tried again at the next flush, not an hour later.
        this.nextPruneAt = now + 3_600_000;
        if (dropped > 0) logger.info({ partitions: dropped }, 'location history pruned');
      }
    } catch (error) {
      metrics.historyFlushFailures.inc();
      // A store still starting (the embedded one takes seconds) is no news: the rows wait, /readyz tells of the store.
      const starting =
        error instanceof TotError &&
        error.code === 'ENGINE_STORE_UNAVAILABLE' &&
        error.details['state'] === 'starting';
      logger[starting ? 'debug' : 'warn'](
        { err: error, pending: history.pending },
        'location history not written; will retry',
      );
    }
  }

  /**
   * Stops the timers; waits for a snapshot in progress, then stops the snapshot worker (a snapshot saved after this is
   * encoded in the calling thread).
   */
  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    clearInterval(this.snapshotTimer);
    clearInterval(this.historyTimer);
    await this.snapshotInFlight;
    await this.encoder.close();
    await this.flushHistory();
    await this.flushEvents();
  }

  /** Sends doctors silent for too long offline and publishes the events; updates the per-status gauge. */
  async sweep(): Promise<void> {
    const events = this.fleet.sweepOffline(this.clock());
    this.pendingEvents.push(...events);
    for (const status of DOCTOR_STATUSES)
      this.options.metrics.doctors.set({ status }, this.fleet.countByStatus(status));
    await this.flushEvents();
  }

  /** Publishes the fleet's pending events on tot.events (key: doctor id). Events that fail stay pending. */
  private async flushEvents(): Promise<void> {
    this.pendingEvents.push(...this.fleet.drainEvents());
    if (this.pendingEvents.length === 0) return;
    const events = this.pendingEvents;
    this.pendingEvents = [];
    try {
      await this.options.bus.publish(
        (this.options.topics ?? TOPICS).events,
        events.map((event) => ({ key: event.doctorId, value: eventPackr.pack(event) })),
      );
    } catch (error) {
      this.pendingEvents = events.concat(this.pendingEvents);
      this.options.logger.warn(
        { err: error, count: events.length },
        'domain events not published; will retry',
      );
    }
  }

  /** Health of the parts the engine itself owns. */
  state(): PartState {
    return 'ready';
  }
}
