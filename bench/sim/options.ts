/**
 * The options of the dispatch simulation (`npm run sim`): one zod schema for the command line and for code (tests,
 * load sweeps), with the defaults of the realistic load the report is read at (docs/BENCHMARKS.md, "Dispatch").
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** Which matchers a run compares. */
export const MATCHING_MODES = ['batched', 'greedy'] as const;

/** One of {@link MATCHING_MODES}. */
export type MatchingMode = (typeof MATCHING_MODES)[number];

const share = z.number().min(0).max(1);

/** The scenario and how it is run; every field has a default. */
export const simulationOptionsSchema = z.object({
  /** Simulated minutes during which bookings arrive. */
  minutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(120),
  /** Doctors on duty (all of them, the whole time). */
  doctors: z.number().int().min(1).max(100_000).default(300),
  /**
   * Mean arrival rate of the Poisson booking process. The default with 300 doctors is a busy service that keeps up: a
   * visit holds its doctor about 50 minutes (answer, drive, a 20–60 minute visit), so about 250 doctors are busy on
   * average, 80–85 % of them; above ≈ 360 an hour the city saturates (docs/BENCHMARKS.md, "Dispatch").
   */
  bookingsPerHour: z.number().min(0).max(1_000_000).default(300),
  /** Share of bookings in categories 1 and 2 (one third category 1, two thirds category 2). */
  emergencyShare: share.default(0.1),
  /** Same seed ⇒ same city, same bookings, same doctors' behaviour ⇒ same report. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(42),
  /** Local hour (Moscow, UTC+3) at which bookings start arriving; the traffic profile follows it. */
  startHour: z.number().min(0).max(23.99).default(10),
  /** Simulated seconds per step of the clock (the dispatcher's tick). */
  stepSeconds: z.number().min(0.1).max(60).default(1),
  /** After the last booking, how long the city keeps running so that open bookings can finish, minutes. */
  drainMinutes: z
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(120),
  /** The dispatcher's batch window, seconds; the dispatcher's default (DISPATCH_BATCH_WINDOW_MS) when omitted. */
  batchWindowSeconds: z.number().min(0.001).max(600).optional(),
  /**
   * Batched matching's look-ahead, minutes: doctors finishing a visit within it are candidates (DispatchSettings
   * lookAheadMs); 0 turns it off; the dispatcher's default when omitted. Greedy matching never looks ahead.
   */
  lookAheadMinutes: z.number().min(0).max(600).optional(),
  /** Batched matching's coverage weight (DispatchSettings coverageWeight); the dispatcher's default when omitted. */
  coverageWeight: z.number().min(0).max(10).optional(),
  /**
   * Batched matching's rematch threshold, minutes (DispatchSettings rematchSavingMs); 0 turns rematching off; the
   * dispatcher's default when omitted.
   */
  rematchSavingMinutes: z.number().min(0).max(600).optional(),
  /**
   * The cost's rating term, seconds per star below 5, for both matchers; the dispatcher's default when omitted. 0 (with
   * `fairnessSecondsPerVisit` 0) makes both matchers choose by ETA alone.
   */
  ratingSecondsPerStar: z.number().min(0).max(3_600).optional(),
  /** The cost's fairness term, seconds per recent visit, for both matchers; the dispatcher's default when omitted. */
  fairnessSecondsPerVisit: z.number().min(0).max(3_600).optional(),
  /** Traffic detectors feeding the traffic field. */
  detectors: z.number().int().min(0).max(100_000).default(200),
  /** Probability that a doctor declines an offer. */
  declineShare: share.default(0.05),
  /** Share of routine bookings (categories 3 and 4) the patient cancels before the doctor arrives. */
  cancelShare: share.default(0.02),
  /** Which matchers to run; both by default, on the same scenario. */
  matching: z
    .array(z.enum(MATCHING_MODES))
    .min(1)
    .default([...MATCHING_MODES]),
  /** One JSON object per line instead of the table. */
  json: z.boolean().default(false),
});

/** The options as code passes them (every field optional). */
export type SimulationInput = z.input<typeof simulationOptionsSchema>;

/** The options with every default filled in. */
export type SimulationOptions = z.output<typeof simulationOptionsSchema>;

/**
 * Fills in the defaults and checks every option.
 *
 * @throws z.ZodError naming the offending option and value.
 */
export function resolveSimulationOptions(input: SimulationInput = {}): SimulationOptions {
  return simulationOptionsSchema.parse(input, { reportInput: true });
}

const NUMBER_FLAGS = {
  minutes: 'minutes',
  doctors: 'doctors',
  'bookings-per-hour': 'bookingsPerHour',
  'emergency-share': 'emergencyShare',
  seed: 'seed',
  'start-hour': 'startHour',
  'step-seconds': 'stepSeconds',
  'drain-minutes': 'drainMinutes',
  'batch-window-seconds': 'batchWindowSeconds',
  'look-ahead-minutes': 'lookAheadMinutes',
  'coverage-weight': 'coverageWeight',
  'rematch-saving-minutes': 'rematchSavingMinutes',
  'rating-seconds-per-star': 'ratingSecondsPerStar',
  'fairness-seconds-per-visit': 'fairnessSecondsPerVisit',
  detectors: 'detectors',
  'decline-share': 'declineShare',
  'cancel-share': 'cancelShare',
} as const satisfies Record<string, keyof SimulationInput>;

/** The command-line help. */
export const USAGE = `usage: npm run sim -- [options]
  --minutes N              simulated minutes of bookings (default 120)
  --doctors D              doctors on duty (default 300)
  --bookings-per-hour R    Poisson arrival rate (default 300)
  --emergency-share S      share of categories 1–2 (default 0.1)
  --seed X                 scenario seed (default 42)
  --start-hour H           local hour the bookings start at (default 10)
  --step-seconds S         simulated seconds per clock step (default 1)
  --drain-minutes M        minutes the city runs on after the last booking (default 120)
  --batch-window-seconds W the dispatcher's batch window (default: the dispatcher's own)
  --look-ahead-minutes M   batched matching's look-ahead (default: the dispatcher's; 0 = off)
  --coverage-weight W      batched matching's coverage weight (default: the dispatcher's; 0 = off)
  --rematch-saving-minutes M  batched matching's rematch threshold (default: the dispatcher's; 0 = off)
  --rating-seconds-per-star S     cost of a rating star below 5, both matchers (default: the dispatcher's)
  --fairness-seconds-per-visit S  cost of a recent visit, both matchers (default: the dispatcher's)
  --detectors N            traffic detectors (default 200)
  --decline-share P        probability a doctor declines an offer (default 0.05)
  --cancel-share P         share of routine bookings the patient cancels (default 0.02)
  --matching MODE          batched, greedy or both (default both)
  --json                   one JSON object per line`;

/**
 * Reads the command line (`--minutes 30 --doctors 200 --json …`).
 *
 * @throws TypeError for an unknown flag or a flag without its value (node:util parseArgs); z.ZodError for a value out
 *   of range or not a number.
 */
export function parseSimulationArguments(argv: readonly string[]): SimulationOptions & { help: boolean } {
  const numberFlags = Object.fromEntries(
    Object.keys(NUMBER_FLAGS).map((flag) => [flag, { type: 'string' as const }]),
  );
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      ...numberFlags,
      matching: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const input: Record<string, unknown> = {};
  const given = values as Record<string, string | boolean | undefined>;
  for (const [flag, key] of Object.entries(NUMBER_FLAGS)) {
    const raw = given[flag];
    // A number that does not parse stays a string, so the schema names the flag and the value.
    if (typeof raw === 'string')
      input[key] = raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  const matching = values['matching'];
  if (typeof matching === 'string')
    input['matching'] = matching === 'both' ? [...MATCHING_MODES] : [matching];
  if (values['json'] === true) input['json'] = true;
  return { ...resolveSimulationOptions(input as SimulationInput), help: values['help'] === true };
}
