import { z } from 'zod';

/**
 * The wire schemas of the streams (docs/STREAMS.md). They are the specification: what passes them is applied, what
 * fails goes to tot.dlq with the reason. They live in engine/ because two edges validate with them: ingest/ (the stream
 * consumer) and api/ (the phone gateway, which refuses a bad fix before it reaches the stream); neither edge may import
 * the other. ingest/schemas.ts re-exports them.
 */

const id = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(64, { error: 'must be at most 64 characters' });
const finite = z.number({ error: 'must be a number' }).refine(Number.isFinite, { error: 'must be finite' });

/** One GPS fix from a doctor's phone. `ts` is ms since the epoch; speed in m/s, heading in degrees from north. */
export const fixSchema = z.object({
  doctorId: id,
  lat: finite.pipe(z.number().min(-90).max(90)),
  lng: finite.pipe(z.number().min(-180).max(180)),
  ts: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer (ms since the epoch)' })
    .positive(),
  accuracy: finite.pipe(z.number().min(0).max(100_000)).optional(),
  speed: finite.pipe(z.number().min(0).max(150)).optional(),
  heading: finite.pipe(z.number().min(0).max(360)).optional(),
  battery: finite.pipe(z.number().min(0).max(100)).optional(),
  seq: z.number().int().min(0).optional(),
});

/** A validated fix. */
export type FixMessage = z.infer<typeof fixSchema>;

/** One traffic detector reading. Speed in km/h, volume in vehicles per interval, occupancy in percent. */
export const readingSchema = z.object({
  detectorId: id,
  ts: z
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer (ms since the epoch)' })
    .positive(),
  speedKmh: finite.pipe(z.number().min(0).max(250)),
  volume: finite.pipe(z.number().min(0)).optional(),
  occupancy: finite.pipe(z.number().min(0).max(100)).optional(),
  lat: finite.pipe(z.number().min(-90).max(90)).optional(),
  lng: finite.pipe(z.number().min(-180).max(180)).optional(),
});

/** A validated reading. */
export type ReadingMessage = z.infer<typeof readingSchema>;

/** How far from the consumer's clock a record's `ts` may be before it is a dead letter. */
export const TIMESTAMP_WINDOW = {
  /** Phones buffer fixes while offline; a day-old fix is still history worth keeping. */
  pastMs: 24 * 60 * 60 * 1000,
  /** Phone clocks drift; more than five minutes ahead is a broken clock. */
  futureMs: 5 * 60 * 1000,
} as const;
