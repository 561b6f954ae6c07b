/**
 * The composition root: the only file that wires the edge adapters (api/, ingest/) to the engine. It boots
 * config → HTTP server (so /healthz answers at once) → store → backup and restore → bus → stream consumer → simulator,
 * and shuts down in the reverse order on SIGINT/SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DeviceRegistry } from '../api/devices.ts';
import { FixPublisher } from '../api/gateway/fix-publisher.ts';
import { GatewayMetrics } from '../api/gateway/gateway-metrics.ts';
import { PhoneGateway } from '../api/gateway/phone-gateway.ts';
import { OfferAnswers } from '../api/gateway/offer-answers.ts';
import { PhoneOfferChannel } from '../api/gateway/offer-channel.ts';
import { PHONE_SOCKET_LIMITS, phoneSocketRoute } from '../api/gateway/phone-socket.ts';
import { TrackHub } from '../api/tracking/track-hub.ts';
import { trackSocketRoute } from '../api/tracking/track-socket.ts';
import { addBookingRoutes } from '../api/routes/bookings.ts';
import type { DispatchService } from '../dispatch/booking-types.ts';
import { settingsFromConfig } from '../dispatch/dispatch-settings.ts';
import { Dispatcher } from '../dispatch/dispatcher.ts';
import { WorkerAssignmentSolver } from '../workers/assignment-pool.ts';
import { alertOfDispatchEvent } from '../api/live/live-sources.ts';
import { LiveHub } from '../api/live/live-hub.ts';
import { LiveMetrics } from '../api/live/live-metrics.ts';
import { liveSocketRoute } from '../api/live/live-route.ts';
import { addGatewayRoutes } from '../api/gateway/routes.ts';
import { auditRecorder } from '../api/auth/audit.ts';
import { bearerPrincipal, createGuards } from '../api/auth/guards.ts';
import { AccessTokens } from '../api/auth/tokens.ts';
import { VerifiedTokens } from '../api/auth/verified-tokens.ts';
import { addAuditRoutes } from '../api/routes/audit.ts';
import { addAuthRoutes } from '../api/routes/auth.ts';
import { addClinicRoutes } from '../api/routes/clinics.ts';
import { addDoctorProfileRoutes } from '../api/routes/doctor-profiles.ts';
import { addDoctorRoutes } from '../api/routes/doctors.ts';
import { addHealthRoutes, type PartHealth } from '../api/routes/health.ts';
import { addSensorRoutes } from '../api/routes/sensors.ts';
import { addStaticRoutes } from '../api/static-routes.ts';
import { addOpenApiRoute } from '../api/openapi.ts';
import { authRateLimiter, RequestLimiter } from '../api/rate-limit.ts';
import { Router } from '../api/router.ts';
import { HttpServer } from '../api/server.ts';
import { Redis } from 'ioredis';
import { KafkaBus } from '../ingest/kafka-bus.ts';
import { TotError } from '../geo/errors.ts';
import { AuditLog } from './audit-log.ts';
import type { Backup } from './backup.ts';
import { FileBackup } from './backup-file.ts';
import { RedisBackup } from './backup-redis.ts';
import { topicNames, type Bus, type PartState } from './bus.ts';
import { ClinicStore } from './clinics.ts';
import { DoctorProfileStore, fleetProfileSync } from './doctor-profiles.ts';
import { loadConfig, redactUrl, type Config } from './config.ts';
import { Engine } from './engine.ts';
import { InProcessBus } from './in-process-bus.ts';
import { LocationHistory } from './location-history.ts';
import { createLogger, type Logger } from './logger.ts';
import { Metrics } from './metrics.ts';
import { migrate } from './migrate.ts';
import type { SimulatorHandle } from './simulator/index.ts';
import { createDemoAccounts } from './composition/demo-accounts.ts';
import { startCity } from './composition/simulation.ts';
import { startStreams } from './composition/streams.ts';
import { encodeRecords } from '../ingest/codec.ts';
import type { StreamConsumer } from '../ingest/stream-consumer.ts';
import { RoutedOfferChannel } from '../dispatch/simulation/routed-channel.ts';
import type { Store } from './store.ts';
import { PgliteStore } from './store-pglite.ts';
import { PostgresStore } from './store-postgres.ts';
import { TrafficSensorRegistry } from './traffic-sensors.ts';
import { UserStore } from './users.ts';

/** A running application. */
export interface Application {
  /** The HTTP port actually bound. */
  port: number;
  engine: Engine;
  /** Resolves when every part has started (or failed: see /readyz). */
  ready: Promise<void>;
  /** Graceful shutdown; resolves true when everything stopped within the timeout. */
  stop(): Promise<boolean>;
  /** Every HTTP route (tests check that each has OpenAPI metadata). */
  router: Router;
}

interface Part {
  kind: string;
  state: () => PartState;
  detail?: string;
}

/** Boots the application described by `config`. Throws if the HTTP port cannot be bound. */
export async function startApplication(
  config: Config,
  logger: Logger = createLogger(config.LOG_LEVEL),
): Promise<Application> {
  const metrics = new Metrics();
  const parts: Record<string, Part> = {};
  const setPart = (name: string, kind: string, state: () => PartState, detail?: string) => {
    parts[name] = { kind, state, ...(detail ? { detail } : {}) };
  };

  // Simulated time may run faster than the wall clock; the engine then lives on simulated time so that fixes from the
  // simulator are not "from the future".
  const wallStart = Date.now();
  const speedUp = config.SIMULATOR ? config.SIMULATOR_SPEEDUP : 1;
  const clock = speedUp === 1 ? Date.now : () => wallStart + (Date.now() - wallStart) * speedUp;

  const topics = topicNames(config.TOPIC_PREFIX);
  const bus: Bus = config.KAFKA_BROKERS
    ? new KafkaBus({
        brokers: config.KAFKA_BROKERS,
        clientId: config.KAFKA_CLIENT_ID,
        partitions: config.KAFKA_PARTITIONS,
        retentionMs: config.KAFKA_RETENTION_MS,
        logger,
      })
    : new InProcessBus();
  setPart('bus', bus.kind, () => bus.state());

  let store: Store | undefined;
  let storeState: PartState = 'starting';
  // The history writes through the store once it is up; until then fixes wait in its (bounded) buffer.
  const readyStore = () => {
    if (!store || storeState !== 'ready') {
      throw new TotError(
        'ENGINE_STORE_UNAVAILABLE',
        `the ${parts['store']?.kind ?? ''} store is ${storeState}`,
        { state: storeState },
      );
    }
    return store;
  };
  // What every store user is given: the store's SQL once it is ready, ENGINE_STORE_UNAVAILABLE (503) until then.
  const storeWhenReady: Pick<Store, 'query' | 'exec' | 'transaction' | 'insertWriter'> = {
    // Every argument is passed on (a statement's `prepared` name among them: dropping it re-parsed every group).
    query: async (...args) => readyStore().query(...args),
    exec: async (script) => readyStore().exec(script),
    transaction: async (fn) => readyStore().transaction(fn),
    insertWriter: () => readyStore().insertWriter(),
  };
  const history = new LocationHistory({
    store: storeWhenReady,
    logger,
    onDropped: (rows) => metrics.historyRows.inc({ outcome: 'dropped' }, rows),
  });
  // Detectors and cameras; the positions of the registered ones are loaded into memory once the store is ready.
  const sensors = new TrafficSensorRegistry(storeWhenReady);

  // Users, tokens and the audit log (api/auth, docs/API.md "Authentication").
  const users = new UserStore(storeWhenReady, { refreshTtlMs: config.REFRESH_TOKEN_TTL_S * 1000 });
  if (!config.JWT_SECRET) {
    logger.warn('no JWT_SECRET set: a random key signs access tokens, they will not survive a restart');
  }
  const tokens = new AccessTokens({
    secret: config.JWT_SECRET ?? randomBytes(48).toString('base64url'),
    ttlSeconds: config.ACCESS_TOKEN_TTL_S,
  });
  // Verified tokens are remembered until they expire: a client's token is checked once, not on every request.
  const verifiedTokens = new VerifiedTokens(tokens);
  const guards = createGuards(verifiedTokens);
  const audit = new AuditLog({
    store: storeWhenReady,
    onDropped: (rows) => logger.warn({ rows }, 'audit entries dropped: buffer full while the store is down'),
  });
  const auditTimer = setInterval(() => {
    if (storeState !== 'ready' || audit.pending === 0) return;
    audit.flush().catch((error: unknown) => {
      logger.warn({ err: error, failedFlushes: audit.failedFlushes }, 'audit log flush failed; retrying');
    });
  }, 1_000);
  auditTimer.unref();

  const engine = new Engine({
    history,
    historyRetentionDays: config.HISTORY_RETENTION_DAYS,
    sensorPosition: (detectorId) => sensors.positionOf(detectorId),
    bus,
    logger,
    metrics,
    clock,
    topics,
    fleet: { resolution: config.H3_RESOLUTION, offlineAfterMs: config.OFFLINE_AFTER_MS },
  });

  const router = new Router();
  addHealthRoutes(router, {
    parts: () =>
      Object.fromEntries(
        Object.entries(parts).map(([name, part]): [string, PartHealth] => [
          name,
          { kind: part.kind, state: part.state(), ...(part.detail ? { detail: part.detail } : {}) },
        ]),
      ),
    metricsText: () => metrics.text(),
  });
  addDoctorRoutes(router, () => engine.fleet, { history, clock });
  addSensorRoutes(router, sensors, {
    guardWrite: (handler) => guards.requireRole(['admin'], handler),
    traffic: (lat, lng) => ({
      speedKmh: engine.traffic.speedAt({ lat, lng }, clock()),
      congestion: engine.traffic.congestionLevel({ lat, lng }, clock()),
    }),
  });
  // The phone gateway publishes to the bus like any producer; fixes reach the fleet through the stream consumer, so
  // that phones, the simulator and producers elsewhere all take the same path (and the same dead letters).
  const fixPublisher = new FixPublisher({
    bus,
    topic: topics.fixes,
    encode: encodeRecords,
    lingerMs: config.GATEWAY_LINGER_MS,
  });
  const gateway = new PhoneGateway({
    devices: new DeviceRegistry(config.DEVICE_TOKENS),
    publisher: fixPublisher,
    clock,
    metrics: new GatewayMetrics(metrics.registry),
    logger,
  });
  addGatewayRoutes(router, gateway);
  // With Redis every instance shares one budget per client; Redis failing falls back to a per-process budget.
  const rateLimitRedis = config.REDIS_URL
    ? new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false })
    : undefined;
  rateLimitRedis?.on('error', (error: Error) => logger.debug({ err: error }, 'rate-limit Redis error'));
  addAuthRoutes(router, {
    users,
    tokens,
    guards,
    limiter: authRateLimiter({
      perMinute: config.RATE_LIMIT_AUTH_PER_MINUTE,
      ...(rateLimitRedis ? { redis: rateLimitRedis } : {}),
    }),
  });
  addAuditRoutes(router, { audit, guards });
  // Clinics and doctors' profiles; a verified profile is the doctor's fleet profile, pushed into the live fleet on
  // every change and once at start-up (after the snapshot's restore, which replaces the fleet).
  const clinics = new ClinicStore(storeWhenReady);
  const doctorProfiles = new DoctorProfileStore(storeWhenReady, {
    onChange: fleetProfileSync(() => engine.fleet, clock),
    onChangeFailed: (error, profile) =>
      logger.error({ err: error, doctorId: profile.doctorId }, 'doctor profile not applied to the fleet'),
  });
  addClinicRoutes(router, { clinics, guards });
  addDoctorProfileRoutes(router, { profiles: doctorProfiles, clinics, guards });
  // Bookings (docs/API.md "Bookings"): the dispatcher decides, the API authorizes. Offers reach the doctors' phone
  // sockets through the offer channel the dispatcher is given; patients follow a booking on its track socket.
  const offerChannel = new PhoneOfferChannel();
  // The dispatcher's channel: the simulated doctors' phones once the simulator runs, the sockets for everyone else.
  const doctorChannel = new RoutedOfferChannel(offerChannel);
  // `bookings.service` is set where the dispatcher is created and started (dispatch/dispatcher.ts, given
  // `channel: offerChannel`); until then the booking routes and sockets answer 503 API_NOT_READY.
  const bookings: { service?: DispatchService } = {};
  const dispatch = (): DispatchService => {
    if (!bookings.service)
      throw new TotError('API_NOT_READY', 'bookings are not served yet: the dispatcher is not running', {});
    return bookings.service;
  };
  const doctorIdOfUser = (userId: string) => doctorProfiles.doctorIdOfUser(userId);
  // The dispatcher (dispatch/dispatcher.ts): bookings in the store, offers through the phone sockets' channel, events on
  // the events topic. It starts serving (bookings.service) once the store is up and the fleet restored (startDispatch).
  // Batch problems below the pool's inline threshold are solved in this thread; larger ones on one worker thread.
  const assignmentSolver = new WorkerAssignmentSolver({ minThreads: 0, maxThreads: 1 });
  const dispatcher = new Dispatcher({
    store: storeWhenReady,
    // PGlite runs one statement at a time. On PostgreSQL one statement for any writes and one kept for emergencies:
    // with more in flight, groups are smaller and PostgreSQL's backends take the CPU from this thread more often —
    // at 1 000 bookings/s the emergency offer's p90 was 22 ms with 4, 18 with 3, 13 with 2 (BENCHMARKS.md).
    storeWrites: { maxInFlight: config.DATABASE_URL ? 2 : 1 },
    engine,
    solver: assignmentSolver,
    channel: doctorChannel,
    bus,
    topics,
    clock,
    logger,
    metrics,
    settings: settingsFromConfig(config),
  });
  let dispatchState: PartState = 'starting';
  setPart('dispatch', dispatcher.settings.matching, () => dispatchState);
  addBookingRoutes(router, { dispatch, guards, doctorIdOfUser });
  const trackHub = new TrackHub({
    dispatch,
    fleet: () => engine.fleet,
    traffic: () => engine.traffic,
    clock,
  });
  addOpenApiRoute(router, {
    title: 'ТОТ Dispatch',
    version: '1',
    description:
      'Real-time dispatch of home doctors. WebSocket: GET /v1/doctor with an upgrade is the phone socket (docs/API.md).',
  });
  // The web pages (console, patient, doctor), bundled from web/ on their first request.
  addStaticRoutes(router, {
    ...(config.MAP_STYLE_URL ? { mapStyleUrl: config.MAP_STYLE_URL } : {}),
    onBuilt: (outcome) => {
      if ('error' in outcome) logger.error({ err: outcome.error }, 'web pages not built');
      else logger.info(outcome, 'web pages built');
    },
  });
  const rateLimit = {
    limiter: new RequestLimiter({
      points: config.RATE_LIMIT_PER_MINUTE,
      keyPrefix: 'tot:rl:api',
      ...(rateLimitRedis ? { redis: rateLimitRedis } : {}),
    }),
    userLimiter: new RequestLimiter({
      points: config.RATE_LIMIT_USER_PER_MINUTE,
      keyPrefix: 'tot:rl:user',
      ...(rateLimitRedis ? { redis: rateLimitRedis } : {}),
    }),
  };
  if (config.DEVICE_TOKENS.length === 0)
    logger.info('no DEVICE_TOKENS set: the phone gateway refuses every device');
  // The dispatchers' live map (WebSocket /v1/live): the fleet's changes, counts and traffic published every
  // LIVE_TICK_MS; bookings and alerts once the dispatcher runs (startDispatch gives it to the hub).
  const liveMetrics = new LiveMetrics(metrics.registry);
  const live = new LiveHub({
    world: { fleet: () => engine.fleet, traffic: () => engine.traffic, now: clock },
    limits: { tickMs: config.LIVE_TICK_MS, maxBufferedBytes: config.LIVE_MAX_BUFFERED_BYTES },
    metrics: liveMetrics,
    logger,
  });
  live.start();
  const server = new HttpServer({
    host: config.HOST,
    port: config.PORT,
    router,
    logger,
    metrics,
    sockets: [
      phoneSocketRoute(gateway, PHONE_SOCKET_LIMITS, {
        offers: { channel: offerChannel, answers: new OfferAnswers(dispatch) },
        doctorUsers: { tokens: verifiedTokens, doctorIdOfUser },
      }),
      trackSocketRoute({ hub: trackHub, dispatch, tokens: verifiedTokens, doctorIdOfUser }),
      liveSocketRoute({ hub: live, tokens, metrics: liveMetrics }),
    ],
    onFinished: auditRecorder(verifiedTokens, (entry) => audit.append(entry)),
    rateLimit,
    authenticate: bearerPrincipal(verifiedTokens),
    ...(config.CORS_ORIGINS === undefined ? {} : { cors: config.CORS_ORIGINS }),
  });
  const port = await server.listen();
  logger.info({ port }, 'HTTP server listening');

  let backup: Backup | undefined;
  let consumer: StreamConsumer | undefined;
  let simulator: SimulatorHandle | undefined;
  let stopRequested = false;
  setPart('store', config.DATABASE_URL ? 'postgres' : 'pglite', () => storeState);
  setPart('backup', config.REDIS_URL ? 'redis' : 'file', () => backup?.state() ?? 'starting');
  setPart('streams', 'consumer', () => (consumer ? 'ready' : 'starting'));

  const startStore = async () => {
    try {
      store = config.DATABASE_URL
        ? new PostgresStore(config.DATABASE_URL)
        : await PgliteStore.open(config.PGLITE_IN_MEMORY ? undefined : join(config.DATA_DIR, 'pglite'));
      const applied = await migrate(store);
      storeState = 'ready';
      if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
        // A failure here leaves the store serving; only the bootstrap admin is missing.
        try {
          const admin = await users.register(
            { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD, displayName: 'Administrator' },
            'admin',
          );
          if (admin) logger.info({ email: admin.email }, 'admin user created');
        } catch (error) {
          logger.error({ err: error }, 'admin user not created');
        }
      }
      if (config.SIMULATOR && !config.DATABASE_URL) {
        try {
          await createDemoAccounts(users, config.PGLITE_IN_MEMORY ? undefined : config.DATA_DIR, logger);
        } catch (error) {
          logger.error({ err: error }, 'demo accounts not created');
        }
      }
      try {
        logger.info({ sensors: await sensors.load() }, 'traffic sensor positions loaded');
      } catch (error) {
        logger.warn({ err: error }, 'traffic sensor positions not loaded; readings need their own lat/lng');
      }
      logger.info(
        { store: store.kind, url: config.DATABASE_URL && redactUrl(config.DATABASE_URL), applied },
        'store ready',
      );
    } catch (error) {
      storeState = 'down';
      logger.error({ err: error }, 'store failed to start');
    }
  };

  const startStreamsPart = async () => {
    backup = config.REDIS_URL
      ? new RedisBackup(config.REDIS_URL, config.SNAPSHOT_KEY)
      : new FileBackup(join(config.DATA_DIR, 'snapshot.msgpack'));
    consumer = await startStreams({
      config,
      engine,
      bus,
      backup,
      topics,
      clock,
      logger,
      metrics,
      stopRequested: () => stopRequested,
    });
  };

  const syncDoctorProfiles = async () => {
    if (storeState !== 'ready') return;
    try {
      logger.info({ profiles: await doctorProfiles.syncAll() }, 'doctor profiles applied to the fleet');
    } catch (error) {
      logger.error(
        { err: error },
        'doctor profiles not applied to the fleet; verified doctors lack their profile',
      );
    }
  };

  const startSimulation = async () => {
    simulator = await startCity({
      config,
      engine,
      bus,
      topics,
      clock,
      speedUp,
      sensors,
      logger,
      dispatcher: dispatchState === 'ready' ? dispatcher : undefined,
      doctorChannel,
    });
  };

  const startDispatch = async () => {
    if (storeState !== 'ready' || stopRequested) {
      dispatchState = 'down';
      logger.error({ store: storeState }, 'dispatcher not started: the store is not ready');
      return;
    }
    try {
      await dispatcher.startTicking();
      bookings.service = dispatcher;
      live.useBookings(dispatcher);
      live.addAlertSource({
        onAlert: (listener) =>
          dispatcher.onEvent((event) => {
            const alert = alertOfDispatchEvent(event, (id) => dispatcher.activeBooking(id));
            if (alert) listener(alert);
          }),
      });
      dispatchState = 'ready';
      logger.info({ matching: dispatcher.settings.matching }, 'dispatcher running');
    } catch (error) {
      dispatchState = 'down';
      logger.error({ err: error }, 'dispatcher failed to start');
    }
  };

  const ready = (async () => {
    await Promise.all([startStore(), startStreamsPart()]);
    await syncDoctorProfiles();
    await startDispatch();
    await startSimulation();
  })().catch((error: unknown) => {
    logger.error({ err: error }, 'start-up failed');
  });

  let stopping: Promise<boolean> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      stopRequested = true;
      const deadline = new Promise<false>((resolve) =>
        setTimeout(() => resolve(false), config.SHUTDOWN_TIMEOUT_MS).unref(),
      );
      const work = (async () => {
        await ready;
        const drained = await server.close(config.SHUTDOWN_TIMEOUT_MS / 2);
        live.stop();
        trackHub.stop();
        // Whatever the gateway still holds in its linger goes out before the bus closes.
        await fixPublisher.close();
        await simulator?.stop();
        // Before the engine and the bus: its last events go out while the bus is open.
        await dispatcher.stop();
        await assignmentSolver.close();
        await engine.stop();
        clearInterval(auditTimer);
        await audit.flush().catch((error: unknown) => {
          logger.warn({ err: error, pending: audit.pending }, 'audit entries not written at shutdown');
        });
        // The final snapshot is saved while the consumer is still subscribed, so that its positions get committed;
        // records applied after it are replayed by the next owner, which is harmless.
        if (backup) await engine.saveSnapshot(backup);
        await consumer?.stop();
        await bus.close();
        await Promise.allSettled([store?.close(), backup?.close()]);
        rateLimitRedis?.disconnect();
        return drained;
      })();
      return Promise.race([work, deadline]);
    })());

  return { port, engine, ready, stop, router };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    const message = error instanceof TotError ? error.message : String(error);
    process.stderr.write(`tot-engine: ${message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.LOG_LEVEL);
  process.on('uncaughtException', (error) => logger.fatal({ err: error }, 'uncaught exception'));
  process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection'));
  const app = await startApplication(config, logger);
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    void app.stop().then((clean) => {
      logger.info({ clean }, 'stopped');
      logger.flush();
      process.exit(clean ? 0 : 1);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
