import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TotError } from '../geo/errors.ts';

/** Codes thrown while reading configuration. */
export const CONFIG_ERROR_CODES = ['CONFIG_INVALID'] as const;

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], {
    error: 'must be one of true, false, 1, 0, yes, no, on, off',
  })
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { error: `must be ≥ ${min}` })
        .max(max, { error: `must be ≤ ${max}` }),
    );

const number = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/, { error: 'must be a decimal number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be ≥ ${min}` })
        .max(max, { error: `must be ≤ ${max}` }),
    );

const url = (protocols: readonly string[]) =>
  z
    .string()
    .trim()
    .refine(
      (value) => {
        try {
          const parsed = new URL(value);
          return protocols.includes(parsed.protocol) && parsed.hostname !== '';
        } catch {
          return false;
        }
      },
      {
        error: `must be a URL with scheme ${protocols.map((p) => p.replace(':', '://')).join(' or ')} and a host`,
      },
    );

/** host:port[,host:port…] */
const brokers = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}(,[A-Za-z0-9.\-[\]:]+:\d{1,5})*$/, {
    error: 'must be a comma-separated list of host:port',
  })
  .transform((value) => value.split(','));

/** `*`, or a comma list of origins (scheme://host[:port], no path). */
const corsOrigins = z
  .string()
  .trim()
  .transform((value, context): '*' | string[] => {
    if (value === '*') return '*';
    const origins = value
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin !== '');
    for (const origin of origins) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(origin);
      } catch {
        parsed = undefined;
      }
      if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) {
        context.addIssue({
          code: 'custom',
          message: `${JSON.stringify(origin)} must be an origin like https://dispatch.example (no path, no trailing slash)`,
        });
        return z.NEVER;
      }
    }
    return origins;
  });

/** `15,30,60,180`: minutes to arrival for triage categories 1–4, positive, each at least the one before. */
const arrivalTargets = z.string().transform((value, context): [number, number, number, number] => {
  const parts = value.split(',').map((part) => part.trim());
  const minutes = parts.map(Number);
  const valid =
    parts.length === 4 &&
    minutes.every((entry, i) => parts[i] !== '' && Number.isFinite(entry) && entry > 0) &&
    minutes.every((entry, i) => i === 0 || entry >= (minutes[i - 1] as number));
  if (!valid) {
    context.addIssue({
      code: 'custom',
      message:
        'must be four positive minute counts for categories 1,2,3,4, each at least the one before (e.g. 15,30,60,180)',
    });
    return z.NEVER;
  }
  return minutes as [number, number, number, number];
});

/** A phone allowed to send fixes for one doctor (DEVICE_TOKENS); only the SHA-256 of its token is kept. */
export interface DeviceCredential {
  deviceId: string;
  doctorId: string;
  /** SHA-256 of the device token, 64 lower-case hex digits. */
  tokenSha256: string;
}

/** Shortest accepted device token: 16 characters (e.g. 96 random bits in base64url) resist guessing. */
export const MIN_DEVICE_TOKEN_LENGTH = 16;

/**
 * `deviceId:doctorId:token[,…]`. The token is everything after the second colon; `sha256:<64 hex digits>` in its place
 * gives the token's digest instead, so the environment need not hold the secret itself. Messages name the entry and
 * the device but never repeat a token.
 */
const deviceTokens = z.string().transform((value, context): DeviceCredential[] => {
  const credentials: DeviceCredential[] = [];
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  entries.forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    const first = entry.indexOf(':');
    const second = first < 0 ? -1 : entry.indexOf(':', first + 1);
    if (second < 0) {
      context.addIssue({ code: 'custom', message: `${where}: must be deviceId:doctorId:token` });
      return;
    }
    const deviceId = entry.slice(0, first).trim();
    const doctorId = entry.slice(first + 1, second).trim();
    const token = entry.slice(second + 1).trim();
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(deviceId)) {
      context.addIssue({
        code: 'custom',
        message: `${where}: device id must be 1–64 letters, digits, dots, dashes or underscores`,
      });
      return;
    }
    if (doctorId.length === 0 || doctorId.length > 64) {
      context.addIssue({
        code: 'custom',
        message: `${where} (device ${deviceId}): doctor id must be 1–64 characters`,
      });
      return;
    }
    const digest = /^sha256:([0-9a-fA-F]{64})$/.exec(token);
    if (!digest && token.length < MIN_DEVICE_TOKEN_LENGTH) {
      context.addIssue({
        code: 'custom',
        message: `${where} (device ${deviceId}): token must be at least ${MIN_DEVICE_TOKEN_LENGTH} characters or sha256:<64 hex digits>`,
      });
      return;
    }
    const tokenSha256 = digest
      ? digest[1]!.toLowerCase()
      : createHash('sha256').update(token, 'utf8').digest('hex');
    if (credentials.some((other) => other.deviceId === deviceId)) {
      context.addIssue({ code: 'custom', message: `${where}: device ${deviceId} is listed twice` });
      return;
    }
    // A bearer token alone identifies its device, so two devices must not share one.
    if (credentials.some((other) => other.tokenSha256 === tokenSha256)) {
      context.addIssue({
        code: 'custom',
        message: `${where} (device ${deviceId}): token is already used by another device`,
      });
      return;
    }
    credentials.push({ deviceId, doctorId, tokenSha256 });
  });
  return credentials;
});

/** Shows DEVICE_TOKENS in an error with every token replaced by `***`. */
export function redactDeviceTokens(value: string): string {
  return value
    .split(',')
    .map((entry) => {
      const first = entry.indexOf(':');
      const second = first < 0 ? -1 : entry.indexOf(':', first + 1);
      return second < 0 ? '***' : `${entry.slice(0, second)}:***`;
    })
    .join(',');
}

/**
 * The environment variables the engine reads, one schema for all of them. An unset service URL selects the embedded
 * part (in-process bus, PGlite, snapshot file); a set one selects the real service. Nothing else changes.
 */
export const environmentSchema = z.object({
  PORT: integer(0, 65535).default(8000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: brokers.optional(),
  KAFKA_CLIENT_ID: z.string().trim().min(1).default('tot-engine'),
  KAFKA_GROUP: z.string().trim().min(1).default('tot-engine'),
  /** Partitions of the topics the engine creates (existing topics keep theirs). */
  KAFKA_PARTITIONS: integer(1, 1_000).default(6),
  /** `retention.ms` of the topics the engine creates; unset: the broker's default. */
  KAFKA_RETENTION_MS: integer(60_000, Number.MAX_SAFE_INTEGER).optional(),
  /** Prefix of the topic names: `tot` → tot.fixes, tot.readings, tot.events, tot.dlq. */
  TOPIC_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, { error: 'must be 1–100 letters, digits, dots, dashes or underscores' })
    .default('tot'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  /** Redis key of the fleet snapshot (one per region once regions are split over instances). */
  SNAPSHOT_KEY: z.string().trim().min(1).max(200).default('tot:snapshot:all'),
  /** Directory of the embedded parts' files (PGlite data, snapshot file). */
  DATA_DIR: z.string().trim().min(1).default('.data/embedded'),
  /** Keep the embedded database in memory only (tests, demos). */
  PGLITE_IN_MEMORY: boolean.default(false),
  H3_RESOLUTION: integer(0, 15).default(9),
  OFFLINE_AFTER_MS: integer(1_000, 86_400_000).default(60_000),
  SNAPSHOT_INTERVAL_MS: integer(1_000, 86_400_000).default(10_000),
  /** Days of location history kept in the store. */
  HISTORY_RETENTION_DAYS: integer(1, 3650).default(30),
  /** How searching bookings get doctors: `batched` (a joint assignment per window) or `greedy` (nearest first). */
  DISPATCH_MATCHING: z.enum(['batched', 'greedy'], { error: 'must be batched or greedy' }).default('batched'),
  /** How long non-emergency bookings gather before a joint assignment, ms. */
  DISPATCH_BATCH_WINDOW_MS: integer(10, 60_000).default(1_000),
  /** Batched matching: how far ahead a doctor finishing a visit counts as a candidate, ms; 0 = off. */
  DISPATCH_LOOK_AHEAD_MS: integer(0, 3_600_000).default(600_000),
  /** Batched matching: share of a candidate's coverage gap added to its cost; 0 = off. */
  DISPATCH_COVERAGE_WEIGHT: number(0, 10).default(0.5),
  /** Batched matching: an en-route routine booking moves to a doctor arriving this much sooner, ms; 0 = off. */
  DISPATCH_REMATCH_SAVING_MS: integer(0, 3_600_000).default(300_000),
  /** How long a doctor has to answer an offer, ms. */
  DISPATCH_OFFER_TIMEOUT_MS: integer(1_000, 600_000).default(20_000),
  /** The same for an emergency (categories 1 and 2), ms. */
  DISPATCH_EMERGENCY_OFFER_TIMEOUT_MS: integer(1_000, 600_000).default(10_000),
  /** A search without a doctor for this long ends in no_doctor_found (an emergency is escalated first), ms. */
  DISPATCH_SEARCH_TIMEOUT_MS: integer(10_000, 86_400_000).default(600_000),
  DISPATCH_NO_DOCTOR_FOUND_TTL_MS: integer(60_000, 30 * 86_400_000).default(86_400_000),
  /** Minutes from booking to arrival per triage category 1,2,3,4; each at least the one before. */
  DISPATCH_TARGETS: arrivalTargets.default([15, 30, 60, 180]),
  /** Nearest available doctors considered per booking. */
  DISPATCH_CANDIDATES: integer(1, 1_000).default(10),
  /** Radius of the candidate search, km. */
  DISPATCH_MAX_KM: number(0.1, 1_000).default(30),
  /** Candidates with a longer ETA are not offered the booking, seconds. */
  DISPATCH_MAX_ETA_S: integer(60, 86_400).default(3_600),
  /** A booking for later starts its search this long before its time, ms. */
  DISPATCH_SCHEDULE_LEAD_MS: integer(0, 86_400_000).default(1_800_000),
  /** Period of the dispatcher's tick (offer lapses, batches, SLA), ms. */
  DISPATCH_TICK_MS: integer(10, 10_000).default(100),
  /** Seconds of ETA one rating star below 5 costs a candidate (dispatch/scoring.ts). */
  DISPATCH_RATING_SECONDS_PER_STAR: number(0, 3_600).default(60),
  /** Seconds of ETA each visit given within the fairness window costs a candidate (dispatch/scoring.ts). */
  DISPATCH_FAIRNESS_SECONDS_PER_VISIT: number(0, 3_600).default(120),
  /** How far back visits count for fairness, ms. */
  DISPATCH_FAIRNESS_WINDOW_MS: integer(60_000, 86_400_000).default(14_400_000),
  SHUTDOWN_TIMEOUT_MS: integer(100, 120_000).default(10_000),
  SIMULATOR: boolean.default(true),
  SIMULATOR_DOCTORS: integer(0, 1_000_000).default(2_000),
  SIMULATOR_DETECTORS: integer(0, 100_000).default(200),
  SIMULATOR_SPEEDUP: number(0.1, 1000).default(1),
  SIMULATOR_SEED: integer(0, 2 ** 31 - 1).default(42),
  SIMULATOR_TICK_MS: integer(10, 60_000).default(250),
  /**
   * Mean bookings per simulated hour the simulator's patients make through the dispatcher (dispatch/simulation/); 0:
   * none (the simulated doctors' phones still answer offers).
   */
  SIMULATOR_BOOKINGS_PER_HOUR: number(0, 100_000).default(60),
  /**
   * Phones allowed to send fixes through the gateway: `deviceId:doctorId:token[,…]` (see {@link DeviceCredential}).
   * Unset: no device is registered and the gateway refuses every phone (secure by default; the simulator publishes
   * to the bus directly and needs none).
   */
  DEVICE_TOKENS: deviceTokens.default([]),
  /** How long the gateway collects fixes before publishing them as one bus request (0: at the next turn of the loop). */
  GATEWAY_LINGER_MS: integer(0, 1_000).default(5),
  /** How often the live map (WebSocket /v1/live) builds and publishes its deltas, ms. */
  LIVE_TICK_MS: integer(10, 10_000).default(100),
  /** Unread bytes queued for a live-map connection beyond which it gets no more deltas until it drains. */
  LIVE_MAX_BUFFERED_BYTES: integer(4_096, 1_073_741_824).default(262_144),
  /**
   * Key of the HS256 access tokens, at least 32 characters. Unset: a random key is made at boot (tokens do not survive
   * a restart; every engine behind one load balancer needs the same key).
   */
  JWT_SECRET: z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
  /** Lifetime of an access token in seconds (default 15 min). */
  ACCESS_TOKEN_TTL_S: integer(10, 86_400).default(900),
  /** Lifetime of a refresh token in seconds (default 30 days). */
  REFRESH_TOKEN_TTL_S: integer(60, 31_536_000).default(2_592_000),
  /** With ADMIN_PASSWORD: an admin user created at boot when no user has this e-mail (the first admin). */
  ADMIN_EMAIL: z.email({ error: 'must be an e-mail address' }).optional(),
  /** Password of ADMIN_EMAIL's account, at least 10 characters; used only when that account is created. */
  ADMIN_PASSWORD: z.string().min(10, { error: 'must be at least 10 characters' }).optional(),
  /**
   * MapLibre style of the web pages' base map (a style JSON URL). Unset: the offline fallback — a plain background with
   * an H3 hex grid, which needs no tile server (these machines have no internet).
   */
  MAP_STYLE_URL: url(['http:', 'https:']).optional(),
  /**
   * Browser origins allowed to call the API: `*` or a comma list of origins (`https://dispatch.example`). Unset: no
   * CORS headers, browsers refuse cross-origin calls.
   */
  CORS_ORIGINS: corsOrigins.optional(),
  /** Requests per minute per client IP without a valid bearer token; /healthz, /readyz, /metrics exempt. */
  RATE_LIMIT_PER_MINUTE: integer(1, 1_000_000).default(600),
  /** Requests per minute per client IP to POST /v1/auth/* (sign-in): kept low against password guessing. */
  RATE_LIMIT_AUTH_PER_MINUTE: integer(1, 10_000).default(10),
  /**
   * Requests per minute per signed-in user (a valid bearer token): such requests spend the user's budget instead of
   * their IP's, so users behind one address do not share one.
   */
  RATE_LIMIT_USER_PER_MINUTE: integer(1, 1_000_000).default(600),
});

/** The validated configuration. */
export type Config = z.infer<typeof environmentSchema>;

/**
 * Reads the configuration from environment variables.
 *
 * @throws TotError `CONFIG_INVALID` naming every bad variable, its value and what was wrong; nothing starts.
 */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "unset": `DATABASE_URL= npm start` selects the embedded store.
  const present = Object.fromEntries(
    Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = environmentSchema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? '(environment)');
    const raw = environment[variable];
    const shown =
      variable.endsWith('_URL') && raw
        ? redactUrl(raw)
        : variable === 'DEVICE_TOKENS' && raw
          ? redactDeviceTokens(raw)
          : (variable === 'JWT_SECRET' || variable === 'ADMIN_PASSWORD') && raw
            ? '***'
            : raw;
    return { variable, value: shown, message: issue.message };
  });
  const text = problems.map((p) => `${p.variable}=${JSON.stringify(p.value ?? '')}: ${p.message}`).join('; ');
  throw new TotError('CONFIG_INVALID', `invalid configuration: ${text}`, { problems });
}

/** Hides the password of a URL for logs and errors. */
export function redactUrl(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return value.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}
