/**
 * Runs a {@link CitySimulator} on a timer and hands each step to a callback; the composition root wires the callback
 * to the bus. Simulated time runs `speedUp` times faster than the clock, starting at `startAt`.
 */
import type { CitySimulator } from './city-simulator.ts';
import type { SimStep } from './types.ts';

/** Receives each step and the simulated time it ends at; the next step waits until a returned promise settles. */
export type SimPublisher = (step: SimStep, now: number) => void | Promise<void>;

/** Options of {@link startSimulator}. */
export interface SimulatorDriverOptions {
  /** Wall-clock ms between steps. Default the simulator's `config.tickMs`. */
  intervalMs?: number;
  /** Simulated ms per wall-clock ms. Default the simulator's `config.speedUp`. */
  speedUp?: number;
  /** Simulated time of the first step, ms since the epoch. Default `clock()` at start. */
  startAt?: number;
  /** Wall clock, ms. Default `Date.now`. */
  clock?: () => number;
  /** Called with whatever a step or the publisher throws; the driver keeps going. Default: ignore (still counted). */
  onError?: (error: unknown) => void;
}

/** A running driver. */
export interface SimulatorHandle {
  /** Steps completed so far. */
  readonly steps: number;
  /** Steps whose stepping or publishing failed. */
  readonly errors: number;
  /** Stops the timer; resolves once an in-flight publish has settled. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts stepping `sim` every `intervalMs` and passing each step to `publish`. Steps never overlap: a slow publisher
 * delays the next step, which then covers the longer interval (nothing is skipped, steps just get bigger).
 *
 * @throws RangeError when `intervalMs` or `speedUp` is not a positive finite number.
 */
export function startSimulator(
  sim: CitySimulator,
  publish: SimPublisher,
  options: SimulatorDriverOptions = {},
): SimulatorHandle {
  const intervalMs = options.intervalMs ?? sim.config.tickMs;
  const speedUp = options.speedUp ?? sim.config.speedUp;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new RangeError(`options.intervalMs must be a positive finite number, got ${intervalMs}`);
  }
  if (!Number.isFinite(speedUp) || speedUp <= 0) {
    throw new RangeError(`options.speedUp must be a positive finite number, got ${speedUp}`);
  }
  const clock = options.clock ?? Date.now;
  const wallStart = clock();
  // A simulator that already ran continues from its own time, so restarting a driver never steps backwards.
  const simStart = Math.max(options.startAt ?? wallStart, sim.now ?? -Infinity);

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const counters = { steps: 0, errors: 0 };

  const tick = async (): Promise<void> => {
    const began = clock();
    try {
      // Math.max: a wall clock stepping backwards must not make simulated time do the same.
      const now = Math.max(simStart + (began - wallStart) * speedUp, sim.now ?? -Infinity);
      await publish(sim.step(now), now);
      counters.steps += 1;
    } catch (error) {
      counters.errors += 1;
      options.onError?.(error);
    }
    if (!stopped) timer = setTimeout(run, Math.max(0, intervalMs - (clock() - began)));
  };
  const run = (): void => {
    inFlight = tick();
  };
  run();

  return {
    get steps() {
      return counters.steps;
    },
    get errors() {
      return counters.errors;
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await inFlight;
    },
  };
}
