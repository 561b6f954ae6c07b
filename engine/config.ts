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
    .pipe(z.number().int().min(min, { error: `must be ≥ ${min}` }).max(max, { error: `must be ≤ ${max}` }));

const number = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/, { error: 'must be a decimal number' })
    .transform(Number)
    .pipe(z.number().min(min, { error: `must be ≥ ${min}` }).max(max, { error: `must be ≤ ${max}` }));

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
      { error: `must be a URL with scheme ${protocols.map((p) => p.replace(':', '://')).join(' or ')} and a host` },
    );

/** host:port[,host:port…] */
const brokers = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}(,[A-Za-z0-9.\-[\]:]+:\d{1,5})*$/, {
    error: 'must be a comma-separated list of host:port',
  })
  .transform((value) => value.split(','));

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
  SHUTDOWN_TIMEOUT_MS: integer(100, 120_000).default(10_000),
  SIMULATOR: boolean.default(true),
  SIMULATOR_DOCTORS: integer(0, 1_000_000).default(2_000),
  SIMULATOR_DETECTORS: integer(0, 100_000).default(200),
  SIMULATOR_SPEEDUP: number(0.1, 1000).default(1),
  SIMULATOR_SEED: integer(0, 2 ** 31 - 1).default(42),
  SIMULATOR_TICK_MS: integer(10, 60_000).default(250),
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
  const present = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''));
  const result = environmentSchema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? '(environment)');
    const raw = environment[variable];
    const shown = variable.endsWith('_URL') && raw ? redactUrl(raw) : raw;
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
