/**
 * Dispatch benchmarks, as sections run in order (`npm run bench -- dispatch`; only some with
 * `DISPATCH_BENCH_SECTIONS=assignment,latency`). Each section is a
 * {@link DispatchBenchSection} in {@link DISPATCH_SECTIONS}; a new one (for instance the booking → offer latency
 * through a running dispatcher) is another entry, written in its own function or file, with no change to the others.
 *
 * Section "assignment" — the batch assignment solver (dispatch/assignment.ts), on problems built like the
 * dispatcher builds them: bookings uniform in the Moscow box of bench/lib/city.ts, 100k doctors of which 30 % are
 * available, each booking's 20 nearest available doctors by straight line as candidates, cost = ETA seconds at a
 * city speed, unassignedCost by priority; the same for 500 bookings crowded into a 3 km square (a district at its peak,
 * where bookings compete for the same doctors); and a dense 500 × 500 problem where every booking may take every
 * doctor. For each problem:
 *   in-thread              solveAssignment in the calling thread (p50, p99, mean)
 *   worker                 WorkerAssignmentSolver round trip: pack, transfer, solve, transfer back (p50, p99, mean),
 *                          with the solve time measured inside the worker, and the hop (round trip − solve)
 *   greedy                 the baseline's time and its total cost over the optimum (cost_ratio ≥ 1)
 * and a sweep of small problems for where the hop starts to cost less than the solve (the pool's threshold).
 *
 * Section "tick" (bench/lib/dispatch-tick.ts) — one dispatcher tick, and the restore, at 10k–100k active bookings.
 * Section "batch" (bench/lib/dispatch-batch.ts) — one batch of 1 000 bookings at 100k doctors: time, loop held, bytes.
 * Section "latency" (bench/lib/dispatch-latency.ts) — booking → offer through the whole application.
 */
import {
  AssignmentWorkspace,
  assignmentCost,
  greedyAssignment,
  lastSolveStatistics,
  solveAssignment,
} from '../dispatch/assignment.ts';
import type { AssignmentProblem, TriageCategory } from '../dispatch/booking-types.ts';
import { KM_PER_DEGREE, RAD_PER_DEG, haversineKm } from '../geo/distance.ts';
import { DEFAULT_DETOUR_FACTOR } from '../geo/eta.ts';
import { FleetIndex, statusBit } from '../geo/fleet-index.ts';
import { WorkerAssignmentSolver } from '../workers/assignment-pool.ts';
import type { Bench, BenchContext } from './lib/bench.ts';
import { CITY_BOX, doctorId, queryPoints, syntheticCity } from './lib/city.ts';
import { measureBatch } from './lib/dispatch-batch.ts';
import { latencySection } from './lib/dispatch-latency.ts';
import { measureTick } from './lib/dispatch-tick.ts';
import { type Measurement, type Reporter, measureAsync, measureSync } from './lib/harness.ts';
import { seededRandom } from './lib/random.ts';

const BENCH = 'dispatch';

/** One part of the dispatch benchmark. */
export interface DispatchBenchSection {
  name: string;
  run(context: BenchContext): Promise<void>;
}

/** Doctors in the city, as in the nearby bench. */
const CITY_DOCTORS = 100_000;
/** Candidates per booking. */
const K = 20;
/** Booking counts of the sparse problems (--sizes overrides). */
const BOOKING_COUNTS = [100, 500, 1000];
/** Side of the dense problem. */
const DENSE_SIZE = 500;
/** Side of the square the clustered bookings fall in, km. */
const CLUSTER_KM = 3;
/** Booking counts of the threshold sweep (× K candidates each). */
const SWEEP_COUNTS = [10, 25, 50, 100, 200, 400, 800];
/**
 * Average driving speed for the straight-line ETA, km/h: an assumption for Moscow in the daytime, where published
 * average speeds are 20–30 km/h; with the detour factor it stands in for geo/eta.ts without a traffic field.
 */
const CITY_SPEED_KMH = 25;
/** Share of bookings per triage category 1–4. */
const PRIORITY_SHARES: readonly [TriageCategory, number][] = [
  [1, 0.05],
  [2, 0.15],
  [3, 0.4],
  [4, 0.4],
];
/**
 * Cost of leaving a booking without a doctor in this batch, s, by category: above the longest ETA in the box (its
 * diagonal, ≈49 km, ≈9 200 s at 25 km/h with the detour factor), so every booking prefers any doctor to none, and
 * doubling with urgency, so that when doctors are short the routine bookings wait first.
 */
const UNASSIGNED_SECONDS: Readonly<Record<TriageCategory, number>> = {
  1: 86_400,
  2: 43_200,
  3: 21_600,
  4: 10_800,
};

function etaSeconds(distanceKm: number): number {
  return ((distanceKm * DEFAULT_DETOUR_FACTOR) / CITY_SPEED_KMH) * 3600;
}

function priorityOf(random: () => number): TriageCategory {
  let draw = random();
  for (const [priority, share] of PRIORITY_SHARES) {
    if (draw < share) return priority;
    draw -= share;
  }
  return 4;
}

/** The available doctors of the bench city in a fleet index, with their positions by slot. */
interface CityDoctors {
  index: FleetIndex;
  lat: Float64Array;
  lng: Float64Array;
  available: Uint8Array;
}

function cityDoctors(): CityDoctors {
  const city = syntheticCity(CITY_DOCTORS, 1);
  const index = new FleetIndex();
  for (let i = 0; i < city.size; i++) {
    index.upsert(
      doctorId(i),
      city.lat[i] as number,
      city.lng[i] as number,
      { status: city.available[i] ? 0 : 1 },
      1,
    );
  }
  return { index, lat: city.lat, lng: city.lng, available: city.available };
}

/**
 * `count` booking points as interleaved [lat, lng]: uniform over the whole box, or, with `clusterKm`, uniform in a
 * square of that side around the box's centre — a district at its peak hour, where bookings compete for doctors.
 */
function bookingPoints(count: number, seed: number, clusterKm?: number): Float64Array {
  const points = queryPoints(count, seed);
  if (clusterKm === undefined) return points;
  const centreLat = (CITY_BOX.minLat + CITY_BOX.maxLat) / 2;
  const centreLng = (CITY_BOX.minLng + CITY_BOX.maxLng) / 2;
  const latScale = clusterKm / KM_PER_DEGREE / (CITY_BOX.maxLat - CITY_BOX.minLat);
  const lngScale =
    clusterKm / (KM_PER_DEGREE * Math.cos(centreLat * RAD_PER_DEG)) / (CITY_BOX.maxLng - CITY_BOX.minLng);
  for (let i = 0; i < count; i++) {
    points[2 * i] = centreLat + ((points[2 * i] as number) - centreLat) * latScale;
    points[2 * i + 1] = centreLng + ((points[2 * i + 1] as number) - centreLng) * lngScale;
  }
  return points;
}

/** `bookings` random bookings, each with its K nearest available doctors; columns are the doctors that appear. */
function sparseProblem(
  doctors: CityDoctors,
  bookings: number,
  seed: number,
  clusterKm?: number,
): AssignmentProblem {
  const points = bookingPoints(bookings, seed, clusterKm);
  const random = seededRandom(seed + 1);
  const columnOfSlot = new Map<number, number>();
  const rowStart = new Int32Array(bookings + 1);
  const colIndex: number[] = [];
  const costs: number[] = [];
  const unassignedCost = new Float64Array(bookings);
  const options = { k: K, statusMask: statusBit(0) };
  for (let row = 0; row < bookings; row++) {
    rowStart[row] = colIndex.length;
    unassignedCost[row] = UNASSIGNED_SECONDS[priorityOf(random)];
    for (const hit of doctors.index.nearby(
      points[2 * row] as number,
      points[2 * row + 1] as number,
      options,
    )) {
      let col = columnOfSlot.get(hit.slot);
      if (col === undefined) {
        col = columnOfSlot.size;
        columnOfSlot.set(hit.slot, col);
      }
      colIndex.push(col);
      costs.push(etaSeconds(hit.distanceKm));
    }
  }
  rowStart[bookings] = colIndex.length;
  return {
    rows: bookings,
    cols: columnOfSlot.size,
    rowStart,
    colIndex: Int32Array.from(colIndex),
    costs: Float64Array.from(costs),
    unassignedCost,
  };
}

/** `size` bookings × the first `size` available doctors of the city, every pair allowed. */
function denseProblem(doctors: CityDoctors, size: number, seed: number): AssignmentProblem {
  const points = queryPoints(size, seed);
  const random = seededRandom(seed + 1);
  const chosen: number[] = [];
  for (let i = 0; chosen.length < size; i++) if (doctors.available[i]) chosen.push(i);
  const problem: AssignmentProblem = {
    rows: size,
    cols: size,
    rowStart: new Int32Array(size + 1),
    colIndex: new Int32Array(size * size),
    costs: new Float64Array(size * size),
    unassignedCost: new Float64Array(size),
  };
  for (let row = 0; row < size; row++) {
    problem.rowStart[row + 1] = (row + 1) * size;
    problem.unassignedCost[row] = UNASSIGNED_SECONDS[priorityOf(random)];
    for (let col = 0; col < size; col++) {
      const doctor = chosen[col] as number;
      const distance = haversineKm(
        points[2 * row] as number,
        points[2 * row + 1] as number,
        doctors.lat[doctor] as number,
        doctors.lng[doctor] as number,
      );
      problem.colIndex[row * size + col] = col;
      problem.costs[row * size + col] = etaSeconds(distance);
    }
  }
  return problem;
}

function addTimes(
  reporter: Reporter,
  subject: string,
  measurement: Measurement,
  parameters: Record<string, string | number>,
): void {
  reporter.add(BENCH, subject, 'p50_ms', measurement.p50Us / 1000, 'ms', parameters);
  reporter.add(BENCH, subject, 'p99_ms', measurement.p99Us / 1000, 'ms', parameters);
  reporter.add(BENCH, subject, 'mean_ms', measurement.meanUs / 1000, 'ms', parameters);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : (sorted[Math.floor(sorted.length / 2)] as number);
}

/** In-thread, worker and greedy figures for one problem. */
async function measureProblem(
  context: BenchContext,
  pool: WorkerAssignmentSolver,
  name: string,
  problem: AssignmentProblem,
): Promise<void> {
  const { reporter, seconds, verify } = context;
  const parameters = {
    problem: name,
    rows: problem.rows,
    cols: problem.cols,
    candidates: problem.colIndex.length,
  };
  const workspace = new AssignmentWorkspace();
  const optimal = solveAssignment(problem, workspace);
  const statistics = lastSolveStatistics(workspace);
  const timing = { seconds, warmupOps: 3 };

  addTimes(
    reporter,
    'in-thread',
    measureSync(() => solveAssignment(problem, workspace), timing),
    parameters,
  );
  if (statistics && statistics.edges < problem.colIndex.length) {
    reporter.add(BENCH, 'in-thread', 'pruned_rounds', statistics.rounds, 'rounds', parameters);
    reporter.add(BENCH, 'in-thread', 'pruned_candidates', statistics.edges, 'edges', parameters);
  }

  const insideWorker: number[] = [];
  const hops: number[] = [];
  const worker = await measureAsync(
    async () => {
      const timed = await pool.solveTimed(problem);
      insideWorker.push(timed.solveMicroseconds);
      hops.push(timed.roundTripMicroseconds - timed.solveMicroseconds);
    },
    { ...timing, concurrency: 1 },
  );
  addTimes(reporter, 'worker', worker, parameters);
  reporter.add(BENCH, 'worker', 'solve_in_worker_p50_ms', median(insideWorker) / 1000, 'ms', parameters);
  reporter.add(BENCH, 'worker', 'hop_p50_ms', median(hops) / 1000, 'ms', parameters);

  const greedy = greedyAssignment(problem);
  addTimes(
    reporter,
    'greedy',
    measureSync(() => greedyAssignment(problem), timing),
    parameters,
  );
  reporter.add(BENCH, 'greedy', 'cost_ratio', greedy.totalCost / optimal.totalCost, '×', parameters);
  const leftOut = (rowToCol: Int32Array) => rowToCol.reduce((sum, col) => sum + (col < 0 ? 1 : 0), 0);
  reporter.add(BENCH, 'greedy', 'left_out', leftOut(greedy.rowToCol), 'rows', parameters);
  reporter.add(BENCH, 'in-thread', 'left_out', leftOut(optimal.rowToCol), 'rows', parameters);

  if (verify) {
    const unpruned = solveAssignment(problem, new AssignmentWorkspace(), {
      prunedDegree: 0,
      reductionPasses: 0,
    });
    const checked = assignmentCost(problem, optimal.rowToCol);
    const tolerance = 1e-9 * Math.max(1, Math.abs(optimal.totalCost));
    if (
      Math.abs(checked - optimal.totalCost) > tolerance ||
      Math.abs(unpruned.totalCost - checked) > tolerance
    ) {
      throw new Error(
        `verify: ${name} costs differ: ${optimal.totalCost}, ${checked}, plain ${unpruned.totalCost}`,
      );
    }
    if (greedy.totalCost < optimal.totalCost - tolerance)
      throw new Error(`verify: ${name} greedy beats the optimum`);
    reporter.note(
      `verify: ${name}: optimum ${checked.toFixed(1)} s confirmed by the plain solve; greedy is valid`,
    );
  }
}

/**
 * Small problems, in the calling thread and through a worker: where the hop (≈ round trip − solve) stops costing
 * more than solving in place, which sets WorkerAssignmentSolver's inlineBelow. Bookings spread over the city barely
 * compete, so their solve stays as cheap as reading the problem; clustered ones compete hard and show the upper end.
 */
async function sweepThreshold(
  context: BenchContext,
  pool: WorkerAssignmentSolver,
  doctors: CityDoctors,
): Promise<void> {
  const { reporter } = context;
  const seconds = Math.min(context.seconds, 1);
  for (const clusterKm of [undefined, CLUSTER_KM]) {
    for (const bookings of SWEEP_COUNTS) {
      const problem = sparseProblem(doctors, bookings, 40 + bookings, clusterKm);
      const parameters = {
        problem: clusterKm === undefined ? 'sweep-spread' : `sweep-clustered-${clusterKm}km`,
        rows: bookings,
        candidates: problem.colIndex.length,
      };
      const workspace = new AssignmentWorkspace();
      const inThread = measureSync(() => solveAssignment(problem, workspace), { seconds, warmupOps: 20 });
      const roundTrip = await measureAsync(() => pool.solve(problem), {
        seconds,
        warmupOps: 20,
        concurrency: 1,
      });
      reporter.add(BENCH, 'in-thread', 'p50_ms', inThread.p50Us / 1000, 'ms', parameters);
      reporter.add(BENCH, 'worker', 'p50_ms', roundTrip.p50Us / 1000, 'ms', parameters);
    }
  }
}

const assignmentSection: DispatchBenchSection = {
  name: 'assignment',
  async run(context) {
    const { reporter } = context;
    const started = performance.now();
    const doctors = cityDoctors();
    reporter.note(
      `-- assignment: ${CITY_DOCTORS} doctors indexed in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `k = ${K}, ETA = straight line × ${DEFAULT_DETOUR_FACTOR} at ${CITY_SPEED_KMH} km/h`,
    );
    const pool = new WorkerAssignmentSolver({ minThreads: 1, maxThreads: 1, inlineBelow: 0 });
    try {
      for (const bookings of context.sizes ?? BOOKING_COUNTS) {
        await measureProblem(context, pool, `nearest-${K}`, sparseProblem(doctors, bookings, bookings));
      }
      await measureProblem(
        context,
        pool,
        `clustered-${CLUSTER_KM}km`,
        sparseProblem(doctors, 500, 500, CLUSTER_KM),
      );
      await measureProblem(context, pool, 'dense', denseProblem(doctors, DENSE_SIZE, 7));
      await sweepThreshold(context, pool, doctors);
    } finally {
      await pool.close();
    }
  },
};

const tickSection: DispatchBenchSection = { name: 'tick', run: measureTick };
const batchSection: DispatchBenchSection = { name: 'batch', run: measureBatch };

/** The sections `npm run bench -- dispatch` runs, in order. */
export const DISPATCH_SECTIONS: DispatchBenchSection[] = [
  assignmentSection,
  tickSection,
  batchSection,
  latencySection,
];

/**
 * The sections named in `list` (comma-separated, e.g. DISPATCH_BENCH_SECTIONS=assignment), or all of them when it is
 * unset or empty; the bench runner has no per-bench arguments, so the environment carries the choice.
 * @throws Error naming the unknown section and the known ones.
 */
function selectedSections(list: string | undefined): DispatchBenchSection[] {
  const names = (list ?? '').split(',').filter((name) => name.trim().length > 0);
  if (names.length === 0) return DISPATCH_SECTIONS;
  return names.map((name) => {
    const section = DISPATCH_SECTIONS.find((candidate) => candidate.name === name.trim());
    if (!section) {
      const known = DISPATCH_SECTIONS.map((candidate) => candidate.name).join(', ');
      throw new Error(`DISPATCH_BENCH_SECTIONS: unknown section ${name}; known: ${known}`);
    }
    return section;
  });
}

const bench: Bench = {
  description:
    'dispatch: batch assignment solver in-thread and on workers vs greedy (100–1000 bookings, dense 500×500); ' +
    'one tick and the restore at 10k–100k active bookings (section tick); ' +
    'one batch of 1 000 bookings at 100k doctors (section batch); ' +
    'booking → offer latency through the application at 100k doctors (section latency)',
  async run(context) {
    for (const section of selectedSections(process.env.DISPATCH_BENCH_SECTIONS)) {
      context.reporter.note(`== dispatch section: ${section.name}`);
      await section.run(context);
    }
  },
};

export default bench;
