/**
 * The contract between bench/run.ts and a bench/NAME.bench.ts file: the file's default export is a {@link Bench}.
 */
import type { Reporter } from './harness.ts';

/** What a benchmark gets from the runner. */
export interface BenchContext {
  reporter: Reporter;
  /** Fleet sizes from --sizes, or undefined for the bench's defaults. */
  sizes: number[] | undefined;
  /** Seconds per timed loop (--seconds, default 3). */
  seconds: number;
  /** --verify: also check results against each other (slower). */
  verify: boolean;
}

/** A benchmark module's default export. */
export interface Bench {
  /** One line for `npm run bench -- --help`. */
  description: string;
  run(context: BenchContext): Promise<void>;
}
