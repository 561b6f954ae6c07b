/**
 * The simulation as a function: draws the scenario once and runs it with each matcher of the options, in order, so
 * that every run sees the same city, bookings and doctors.
 */
import { migrate } from '../../engine/migrate.ts';
import { PgliteStore } from '../../engine/store-pglite.ts';
import type { Store } from '../../engine/store.ts';
import type { SimulationOptions } from './options.ts';
import type { RunResult } from './report.ts';
import { runScenario } from './run-scenario.ts';
import { buildScenario } from './scenario.ts';

/** What {@link simulate} returns: one result per matcher, and how many bookings the scenario scheduled. */
export interface Simulation {
  runs: RunResult[];
  bookings: number;
}

/**
 * Runs the simulation of `options`; `onRun` hears which matcher starts (progress for the command line).
 *
 * @throws as runScenario.
 */
export async function simulate(
  options: SimulationOptions,
  onRun: (matching: string) => void = () => {},
): Promise<Simulation> {
  const scenario = buildScenario(options);
  const runs: RunResult[] = [];
  // One embedded store for every run: opening PGlite with PostGIS and migrating takes several seconds, emptying it
  // takes milliseconds.
  const opened = performance.now();
  const store = await PgliteStore.open();
  try {
    await migrate(store);
    const storeSeconds = (performance.now() - opened) / 1000;
    for (const matching of options.matching) {
      onRun(matching);
      await clearBookings(store);
      const run = await runScenario(scenario, matching, { store });
      run.figures.setupSeconds += storeSeconds / options.matching.length;
      runs.push(run);
    }
  } finally {
    await store.close();
  }
  return { runs, bookings: scenario.bookings.length };
}

/** Empties the bookings of an earlier run; their status updates and notifications go with them (migration 0007). */
async function clearBookings(store: Store): Promise<void> {
  await store.query('DELETE FROM booking.bookings');
}
