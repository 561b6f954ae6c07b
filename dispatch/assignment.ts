/**
 * The batch assignment solver: bookings (rows) × candidate doctors (columns), exact minimum of Σ pair costs + Σ
 * unassignedCost of the rows left out, each doctor used at most once. Pure, no I/O; the same code runs in the
 * calling thread ({@link InThreadAssignmentSolver}) and on worker threads (workers/assignment.worker.ts).
 *
 * The search itself (shortest augmenting paths with potentials, Jonker & Volgenant / Crouse) is in
 * assignment-solver.ts. This front validates, and for rows with many candidates — a dense problem, where every
 * booking may take every doctor — solves a pruned problem first: each long row keeps its {@link
 * DEFAULT_PRUNED_DEGREE} cheapest candidates, the pruned problem is solved, and its potentials are checked against
 * every edge left out. An edge with negative reduced cost (cost − u − v < 0) could improve the answer, so such edges
 * are added and the pruned problem solved again; when none is left, the potentials are feasible for the whole
 * problem and the answer is optimal for it (linear programming duality), not just for the pruned one. Later rounds
 * start from the last round's prices, so they cost a fraction of the first; on the bench's dense city problem three
 * rounds over about 16k of the 250k edges do.
 */
import { TotError } from '../geo/errors.ts';
import type { AssignmentProblem, AssignmentSolution, AssignmentSolver } from './booking-types.ts';
import { validateAssignmentProblem } from './assignment-problem.ts';
import { AssignmentWorkspace, solveValidated } from './assignment-solver.ts';

export {
  assignmentCost,
  problemFromCandidates,
  validateAssignmentProblem,
  validateAssignmentShape,
  MAX_ASSIGNMENT_DIMENSION,
} from './assignment-problem.ts';
export type { CandidateRow } from './assignment-problem.ts';
export { AssignmentWorkspace } from './assignment-solver.ts';

/** Options of {@link solveAssignment}; the defaults are the fastest measured (bench/dispatch.bench.ts). */
export interface SolveOptions {
  /**
   * Passes of augmenting row reduction before the shortest paths (integer ≥ 0, default
   * {@link DEFAULT_REDUCTION_PASSES}); 0 solves by shortest augmenting paths alone.
   */
  reductionPasses?: number;
  /**
   * Rows with more candidates than this are pruned to their cheapest this many before solving, then repaired as the
   * module documentation says (integer ≥ 0, default {@link DEFAULT_PRUNED_DEGREE}; 0 never prunes).
   */
  prunedDegree?: number;
  /**
   * Pruned rounds before the solver solves the whole problem instead (integer ≥ 0, 0 counting as 1; default
   * {@link DEFAULT_PRUNED_ROUNDS}).
   */
  prunedRounds?: number;
}

/** Jonker & Volgenant run the augmenting row reduction twice. */
export const DEFAULT_REDUCTION_PASSES = 2;

/** Candidates a long row keeps in the pruned problem. */
export const DEFAULT_PRUNED_DEGREE = 32;

/**
 * Pruned rounds after which the solver gives up pruning and solves the whole problem. Geometric problems settle in
 * 2–5 rounds; the limit caps pathological ones (11 rounds with retries seen with 24 candidates per row) at the cost
 * of one plain solve.
 */
export const DEFAULT_PRUNED_ROUNDS = 6;

/** Statistics of the last {@link solveAssignment} with this workspace, for benchmarks and tests. */
export interface SolveStatistics {
  /** Times the (pruned) problem was solved: 1 without pruning or when no edge left out could help. */
  rounds: number;
  /** Edges the last round solved over (all of them without pruning). */
  edges: number;
  /** Warm-started solves repeated because a priced column ended up unused, plus cold solves after too many. */
  warmRetries: number;
}

const statistics = new WeakMap<AssignmentWorkspace, SolveStatistics>();

/** What the last {@link solveAssignment} with `workspace` did, or undefined before its first solve. */
export function lastSolveStatistics(workspace: AssignmentWorkspace): SolveStatistics | undefined {
  return statistics.get(workspace);
}

/**
 * Solves `problem` exactly: the returned `rowToCol` gives each row one of its candidate columns or -1, uses no column
 * twice, and minimises Σ costs of the chosen pairs + Σ unassignedCost of the rows given -1 (exact up to
 * floating-point rounding of the sums). Deterministic for a given problem and options; among several optimal answers
 * which one is returned is not specified. `totalCost` is the sum, added in row order.
 *
 * Time: one Dijkstra per row that the reduction leaves free, each over the part of the graph it needs (O(E log C) at
 * worst); problems where rows rarely compete settle a handful of columns per row. Memory: the workspace, O(rows +
 * cols), plus O(E) when rows are pruned.
 *
 * @param workspace scratch space to reuse between calls (one per thread); a fresh one when omitted.
 * @throws TotError `DISPATCH_INVALID_ASSIGNMENT` when the problem fails {@link validateAssignmentProblem}, or an
 *   option is not an integer ≥ 0 (field `options.<name>`).
 */
export function solveAssignment(
  problem: AssignmentProblem,
  workspace: AssignmentWorkspace = new AssignmentWorkspace(),
  options: SolveOptions = {},
): AssignmentSolution {
  validateAssignmentProblem(problem, (cols) => {
    workspace.reserve(problem.rows, cols + problem.rows);
    return workspace.columnOwner;
  });
  const passes = countOption('reductionPasses', options.reductionPasses, DEFAULT_REDUCTION_PASSES);
  const degree = countOption('prunedDegree', options.prunedDegree, DEFAULT_PRUNED_DEGREE);
  const maxRounds = Math.max(1, countOption('prunedRounds', options.prunedRounds, DEFAULT_PRUNED_ROUNDS));
  const { rows, rowStart, colIndex, costs, unassignedCost } = problem;
  let longest = 0;
  for (let row = 0; row < rows; row++) {
    longest = Math.max(longest, (rowStart[row + 1] as number) - (rowStart[row] as number));
  }
  const rowToCol = new Int32Array(rows);
  let totalCost = 0;
  if (degree <= 0 || longest <= degree) {
    solveValidated(problem, workspace, passes);
    statistics.set(workspace, { rounds: 1, edges: colIndex.length, warmRetries: 0 });
    for (let row = 0; row < rows; row++) {
      const edge = workspace.rowEdge[row] as number;
      rowToCol[row] = edge >= 0 ? (colIndex[edge] as number) : -1;
      totalCost += edge >= 0 ? (costs[edge] as number) : (unassignedCost[row] as number);
    }
    return { rowToCol, totalCost };
  }
  const origin = solvePruned(problem, workspace, { passes, degree, maxRounds }, longest);
  for (let row = 0; row < rows; row++) {
    const pruned = workspace.rowEdge[row] as number;
    const edge = pruned >= 0 && origin !== null ? (origin[pruned] as number) : pruned;
    rowToCol[row] = edge >= 0 ? (colIndex[edge] as number) : -1;
    totalCost += edge >= 0 ? (costs[edge] as number) : (unassignedCost[row] as number);
  }
  return { rowToCol, totalCost };
}

function countOption(name: keyof SolveOptions, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new TotError(
      'DISPATCH_INVALID_ASSIGNMENT',
      `options.${name} must be an integer ≥ 0, got ${value}`,
      {
        field: `options.${name}`,
        value,
      },
    );
  }
  return value;
}

/**
 * Solves the problem restricted to each row's `degree` cheapest candidates plus whatever edges the potentials show
 * could help, until none could. Leaves the answer in the workspace with `rowEdge` indexing the pruned copy and
 * returns the map from pruned edges to the problem's edges — or, when the rounds do not settle quickly, solves the
 * whole problem instead and returns null (`rowEdge` then indexes the problem's edges).
 */
function solvePruned(
  problem: AssignmentProblem,
  w: AssignmentWorkspace,
  { passes, degree, maxRounds }: { passes: number; degree: number; maxRounds: number },
  longest: number,
): Int32Array | null {
  const { rows, cols, rowStart, colIndex, costs, unassignedCost } = problem;
  const edges = colIndex.length;
  w.reservePruning(rows, edges, longest, cols + rows);
  const { included, selection } = w;
  included.fill(0, 0, edges);
  let largest = 0;
  for (let row = 0; row < rows; row++) {
    largest = Math.max(largest, unassignedCost[row] as number);
    const start = rowStart[row] as number;
    const end = rowStart[row + 1] as number;
    if (end - start <= degree) {
      included.fill(1, start, end);
      continue;
    }
    for (let edge = start; edge < end; edge++) {
      selection[edge - start] = costs[edge] as number;
      largest = Math.max(largest, costs[edge] as number);
    }
    const threshold = selectSmallest(selection, end - start, degree - 1);
    let kept = 0;
    for (let edge = start; edge < end; edge++) {
      if ((costs[edge] as number) < threshold) {
        included[edge] = 1;
        kept++;
      }
    }
    for (let edge = start; edge < end && kept < degree; edge++) {
      if (costs[edge] === threshold) {
        included[edge] = 1;
        kept++;
      }
    }
  }
  // Potentials are sums and differences of costs, so their rounding error scales with the largest cost; anything
  // more negative than this is a real violation, not noise.
  const tolerance = 1e-9 * (1 + largest);
  let rounds = 0;
  let warmRetries = 0;
  for (;;) {
    rounds++;
    const { prunedRowStart, prunedColIndex, prunedCosts, prunedOrigin } = w;
    let count = 0;
    for (let row = 0; row < rows; row++) {
      prunedRowStart[row] = count;
      const end = rowStart[row + 1] as number;
      for (let edge = rowStart[row] as number; edge < end; edge++) {
        if (included[edge] === 0) continue;
        prunedColIndex[count] = colIndex[edge] as number;
        prunedCosts[count] = costs[edge] as number;
        prunedOrigin[count] = edge;
        count++;
      }
    }
    prunedRowStart[rows] = count;
    const pruned: AssignmentProblem = {
      rows,
      cols,
      rowStart: prunedRowStart.subarray(0, rows + 1),
      colIndex: prunedColIndex.subarray(0, count),
      costs: prunedCosts.subarray(0, count),
      unassignedCost,
    };
    // Later rounds start from the last round's prices, which are nearly right: most rows then find their column
    // at once.
    if (rounds === 1) solveValidated(pruned, w, passes);
    else warmRetries += solveWarm(pruned, w, passes);
    let added = 0;
    for (let row = 0; row < rows; row++) {
      const rowPotential = w.rowPotential[row] as number;
      const end = rowStart[row + 1] as number;
      for (let edge = rowStart[row] as number; edge < end; edge++) {
        if (included[edge] === 1) continue;
        const col = colIndex[edge] as number;
        if ((costs[edge] as number) - rowPotential - (w.columnPotential[col] as number) < -tolerance) {
          included[edge] = 1;
          added++;
        }
      }
    }
    if (added === 0) {
      statistics.set(w, { rounds, edges: count, warmRetries });
      return prunedOrigin;
    }
    if (rounds >= maxRounds) {
      // Pruning is not settling: solve the whole problem once, which bounds the worst case.
      solveValidated(problem, w, passes);
      statistics.set(w, { rounds: rounds + 1, edges, warmRetries });
      return null;
    }
  }
}

/**
 * Warm-started solves of one round before it is solved cold. Each retry costs a whole solve and zeroes only the
 * prices that failed, which on some problems creep one column at a time (hundreds of retries measured); a cold solve
 * costs about as much as two warm ones and cannot fail.
 */
const WARM_RETRIES = 2;

/**
 * Solves `pruned` from the prices in the workspace. When a column priced below 0 ends up unused (the warm start's one
 * way to miss the optimum, see solveValidated), starts again from the same prices with every such column's price
 * at 0, up to {@link WARM_RETRIES} times, then solves cold. Returns the number of retries (a cold solve counts as
 * one).
 */
function solveWarm(pruned: AssignmentProblem, w: AssignmentWorkspace, passes: number): number {
  const columns = pruned.cols + pruned.rows;
  const start = w.startPrices;
  start.set(w.columnPotential.subarray(0, columns));
  for (let retries = 0; retries < WARM_RETRIES; retries++) {
    if (solveValidated(pruned, w, passes, true)) return retries;
    for (let col = 0; col < columns; col++) {
      if ((w.columnOwner[col] as number) < 0 && (w.columnPotential[col] as number) < 0) start[col] = 0;
    }
    w.columnPotential.set(start.subarray(0, columns));
  }
  solveValidated(pruned, w, passes);
  return WARM_RETRIES;
}

/**
 * The value that would be at index `k` of the first `length` entries of `values` sorted ascending (quickselect,
 * Hoare partition; reorders those entries).
 */
function selectSmallest(values: Float64Array, length: number, k: number): number {
  let low = 0;
  let high = length - 1;
  while (low < high) {
    const pivot = values[(low + high) >> 1] as number;
    let i = low;
    let j = high;
    while (i <= j) {
      while ((values[i] as number) < pivot) i++;
      while ((values[j] as number) > pivot) j--;
      if (i <= j) {
        const swap = values[i] as number;
        values[i] = values[j] as number;
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) high = j;
    else if (k >= i) low = i;
    else break;
  }
  return values[k] as number;
}

/**
 * The baseline the simulation compares the solver with: rows in the given order, each takes its cheapest candidate
 * not yet taken (the first listed among equals) when that costs strictly less than its unassignedCost, else stays out.
 * Never cheaper than {@link solveAssignment}; O(E).
 *
 * @throws TotError `DISPATCH_INVALID_ASSIGNMENT` when the problem fails {@link validateAssignmentProblem}.
 */
export function greedyAssignment(problem: AssignmentProblem): AssignmentSolution {
  validateAssignmentProblem(problem);
  const { rows, cols, rowStart, colIndex, costs, unassignedCost } = problem;
  const taken = new Uint8Array(cols);
  const rowToCol = new Int32Array(rows).fill(-1);
  let totalCost = 0;
  for (let row = 0; row < rows; row++) {
    let best = -1;
    let bestCost = unassignedCost[row] as number;
    const end = rowStart[row + 1] as number;
    for (let edge = rowStart[row] as number; edge < end; edge++) {
      const cost = costs[edge] as number;
      if (cost < bestCost && taken[colIndex[edge] as number] === 0) {
        best = edge;
        bestCost = cost;
      }
    }
    if (best >= 0) {
      const col = colIndex[best] as number;
      taken[col] = 1;
      rowToCol[row] = col;
    }
    totalCost += bestCost;
  }
  return { rowToCol, totalCost };
}

/**
 * {@link AssignmentSolver} running {@link solveAssignment} in the calling thread, with one reused workspace. For the
 * dispatcher's tests and small deployments; workers/assignment-pool.ts moves large problems off the event loop.
 */
export class InThreadAssignmentSolver implements AssignmentSolver {
  private readonly workspace = new AssignmentWorkspace();

  /** Resolves with the optimum; rejects with TotError `DISPATCH_INVALID_ASSIGNMENT` for a malformed problem. */
  solve(problem: AssignmentProblem): Promise<AssignmentSolution> {
    try {
      return Promise.resolve(solveAssignment(problem, this.workspace));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }
}
