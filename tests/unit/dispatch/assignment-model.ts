/**
 * Reference pieces for the assignment solver tests: small random problems with the awkward shapes (rows with no
 * candidates, columns nobody wants, ties, zero costs, leaving a row out cheaper than some of its candidates), a brute
 * force that tries every assignment, and a checker of a solution that shares no code with the solver.
 */
import fc from 'fast-check';
import type { AssignmentProblem } from '../../../dispatch/booking-types.ts';

/** A problem as plain lists, easy to read in a counterexample. */
export interface ModelProblem {
  cols: number;
  rows: { cols: number[]; costs: number[]; unassignedCost: number }[];
}

/** CSR form of a model problem. */
export function toProblem(model: ModelProblem): AssignmentProblem {
  const candidates = model.rows.reduce((sum, row) => sum + row.cols.length, 0);
  const problem: AssignmentProblem = {
    rows: model.rows.length,
    cols: model.cols,
    rowStart: new Int32Array(model.rows.length + 1),
    colIndex: new Int32Array(candidates),
    costs: new Float64Array(candidates),
    unassignedCost: new Float64Array(model.rows.length),
  };
  let edge = 0;
  model.rows.forEach((row, r) => {
    problem.rowStart[r] = edge;
    problem.unassignedCost[r] = row.unassignedCost;
    row.cols.forEach((col, k) => {
      problem.colIndex[edge] = col;
      problem.costs[edge] = row.costs[k] as number;
      edge++;
    });
  });
  problem.rowStart[model.rows.length] = edge;
  return problem;
}

/**
 * Random problems of up to `maxRows` × `maxCols`. Integer costs from a small range make ties common; `fractional`
 * adds quarter steps. Each row picks a random subset of columns (possibly none, possibly all) in random order.
 */
export function modelProblemArbitrary(
  maxRows = 6,
  maxCols = 6,
  fractional = false,
): fc.Arbitrary<ModelProblem> {
  const cost = fractional
    ? fc.integer({ min: 0, max: 40 }).map((quarters) => quarters / 4)
    : fc.integer({ min: 0, max: 9 });
  return fc.integer({ min: 0, max: maxCols }).chain((cols) =>
    fc.record({
      cols: fc.constant(cols),
      rows: fc.array(
        fc
          .record({
            chosen: fc.shuffledSubarray(
              Array.from({ length: cols }, (_, col) => col),
              { minLength: 0, maxLength: cols },
            ),
            costs: fc.array(cost, { minLength: cols, maxLength: cols }),
            unassignedCost: fc.oneof(cost, fc.integer({ min: 0, max: 30 })),
          })
          .map(({ chosen, costs, unassignedCost }) => ({
            cols: chosen,
            costs: costs.slice(0, chosen.length),
            unassignedCost,
          })),
        { minLength: 0, maxLength: maxRows },
      ),
    }),
  );
}

/** The minimum total cost over every valid assignment, by trying them all. */
export function bruteForceOptimum(model: ModelProblem): number {
  const used = new Array<boolean>(model.cols).fill(false);
  let best = Number.POSITIVE_INFINITY;
  const visit = (r: number, sum: number): void => {
    if (sum >= best) return;
    if (r === model.rows.length) {
      best = sum;
      return;
    }
    const row = model.rows[r] as ModelProblem['rows'][number];
    visit(r + 1, sum + row.unassignedCost);
    row.cols.forEach((col, k) => {
      if (used[col]) return;
      used[col] = true;
      visit(r + 1, sum + (row.costs[k] as number));
      used[col] = false;
    });
  };
  visit(0, 0);
  return best;
}

/**
 * Checks that `rowToCol` is a valid assignment of `problem` (each row a candidate of its own or -1, no column twice)
 * and returns its total cost; throws an Error saying what is wrong otherwise.
 */
export function checkedCost(problem: AssignmentProblem, rowToCol: Int32Array): number {
  if (rowToCol.length !== problem.rows)
    throw new Error(`rowToCol has ${rowToCol.length} entries for ${problem.rows} rows`);
  const owners = new Map<number, number>();
  let total = 0;
  for (let r = 0; r < problem.rows; r++) {
    const col = rowToCol[r] as number;
    if (col === -1) {
      total += problem.unassignedCost[r] as number;
      continue;
    }
    const owner = owners.get(col);
    if (owner !== undefined) throw new Error(`column ${col} given to rows ${owner} and ${r}`);
    owners.set(col, r);
    let found = -1;
    for (let e = problem.rowStart[r] as number; e < (problem.rowStart[r + 1] as number); e++) {
      if (problem.colIndex[e] === col) found = e;
    }
    if (found < 0) throw new Error(`row ${r} given column ${col}, not one of its candidates`);
    total += problem.costs[found] as number;
  }
  return total;
}

/** mulberry32, uniform in [0, 1): the same numbers for the same seed on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A large random sparse problem: `rows` rows, `cols` columns, each row `perRow` distinct random columns with costs in
 * [0, 1000), leaving out costing 500–1500, so that rows compete and some stay out.
 */
export function randomSparseProblem(
  rows: number,
  cols: number,
  perRow: number,
  seed: number,
): AssignmentProblem {
  const random = seededRandom(seed);
  const model: ModelProblem = { cols, rows: [] };
  for (let r = 0; r < rows; r++) {
    const chosen = new Set<number>();
    while (chosen.size < perRow) chosen.add(Math.floor(random() * cols));
    model.rows.push({
      cols: [...chosen],
      costs: [...chosen].map(() => Math.floor(random() * 1000)),
      unassignedCost: 500 + Math.floor(random() * 1000),
    });
  }
  return toProblem(model);
}

/** Every row may take every column; costs are distances between random points of a 100 × 100 square. */
export function denseGeometricProblem(size: number, seed: number): AssignmentProblem {
  const random = seededRandom(seed);
  const x = Array.from({ length: 2 * size }, () => 100 * random());
  const y = Array.from({ length: 2 * size }, () => 100 * random());
  const problem: AssignmentProblem = {
    rows: size,
    cols: size,
    rowStart: new Int32Array(size + 1),
    colIndex: new Int32Array(size * size),
    costs: new Float64Array(size * size),
    unassignedCost: new Float64Array(size).fill(1000),
  };
  for (let r = 0; r < size; r++) {
    problem.rowStart[r + 1] = (r + 1) * size;
    for (let c = 0; c < size; c++) {
      problem.colIndex[r * size + c] = c;
      problem.costs[r * size + c] = Math.hypot(
        (x[r] as number) - (x[size + c] as number),
        (y[r] as number) - (y[size + c] as number),
      );
    }
  }
  return problem;
}
