/**
 * Building, checking and costing {@link AssignmentProblem}s: the validation every solver runs before it reads a
 * problem, a builder from per-row candidate lists, and the cost of a given assignment. Pure, no I/O.
 */
import { TotError } from '../geo/errors.ts';
import type { AssignmentProblem } from './booking-types.ts';

/** The largest row or column count accepted: indices, offsets and the solver's extra columns must fit an Int32. */
export const MAX_ASSIGNMENT_DIMENSION = 0x3fff_ffff;

function invalid(field: string, message: string, details: Record<string, unknown> = {}): never {
  throw new TotError('DISPATCH_INVALID_ASSIGNMENT', `${field} ${message}`, { field, ...details });
}

function assertDimension(field: 'rows' | 'cols', value: unknown): void {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 0 ||
    value > MAX_ASSIGNMENT_DIMENSION
  ) {
    invalid(field, `must be an integer in [0, ${MAX_ASSIGNMENT_DIMENSION}], got ${String(value)}`, { value });
  }
}

function assertArray(
  field: keyof AssignmentProblem,
  value: unknown,
  type: typeof Int32Array | typeof Float64Array,
  length: number | undefined,
): void {
  if (!(value instanceof type)) {
    invalid(field, `must be an ${type.name}, got ${describe(value)}`);
  }
  if (length !== undefined && value.length !== length) {
    invalid(field, `must have length ${length}, got ${value.length}`, { value: value.length });
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/**
 * The part of {@link validateAssignmentProblem} that costs O(1): `problem` is an object, `rows` and `cols` are
 * integers in range, and the four arrays have the right types and lengths (so they can be copied, e.g. into a
 * worker's request). The contents are not read.
 *
 * @throws TotError `DISPATCH_INVALID_ASSIGNMENT` naming the offending field.
 */
export function validateAssignmentShape(problem: AssignmentProblem): void {
  if (problem === null || typeof problem !== 'object') {
    invalid('problem', `must be an object, got ${describe(problem)}`);
  }
  const { rows, cols } = problem;
  assertDimension('rows', rows);
  assertDimension('cols', cols);
  assertArray('rowStart', problem.rowStart, Int32Array, rows + 1);
  assertArray('colIndex', problem.colIndex, Int32Array, undefined);
  assertArray('costs', problem.costs, Float64Array, problem.colIndex.length);
  assertArray('unassignedCost', problem.unassignedCost, Float64Array, rows);
}

/**
 * Checks that `problem` is a well-formed {@link AssignmentProblem}: `rows` and `cols` integers in
 * [0, {@link MAX_ASSIGNMENT_DIMENSION}]; `rowStart` an Int32Array of rows + 1 non-decreasing offsets from 0 to
 * colIndex.length; `colIndex` an Int32Array of columns in [0, cols), none repeated within a row; `costs` a
 * Float64Array as long as colIndex; `unassignedCost` a Float64Array of `rows` values; every cost finite and ≥ 0.
 * Reads the problem once, changes nothing.
 *
 * `scratch`, when given, is called once with `cols` (after rows and cols are known to be valid) and returns an
 * Int32Array of at least that many entries used to find repeated columns; the solver lends its workspace so that
 * validation allocates nothing. Its contents are overwritten.
 *
 * @throws TotError `DISPATCH_INVALID_ASSIGNMENT` naming the first offending field and index in `details`
 *   (`{ field, index?, row?, value? }`).
 */
export function validateAssignmentProblem(
  problem: AssignmentProblem,
  scratch?: (size: number) => Int32Array,
): void {
  validateAssignmentShape(problem);
  const { rows, cols, rowStart, colIndex, costs, unassignedCost } = problem;
  if (rowStart[0] !== 0)
    invalid('rowStart', `[0] must be 0, got ${rowStart[0]}`, { index: 0, value: rowStart[0] });
  if (rowStart[rows] !== colIndex.length) {
    invalid('rowStart', `[${rows}] must equal colIndex.length ${colIndex.length}, got ${rowStart[rows]}`, {
      index: rows,
      value: rowStart[rows],
    });
  }
  // Offsets first, so that no edge is read through an offset past the arrays.
  for (let row = 0; row < rows; row++) {
    const start = rowStart[row] as number;
    const end = rowStart[row + 1] as number;
    if (end < start) {
      invalid('rowStart', `[${row + 1}] must be ≥ rowStart[${row}] = ${start}, got ${end}`, {
        index: row + 1,
        value: end,
      });
    }
  }
  const lastSeen = scratch?.(cols) ?? new Int32Array(cols);
  lastSeen.fill(-1, 0, cols);
  for (let row = 0; row < rows; row++) {
    const start = rowStart[row] as number;
    const end = rowStart[row + 1] as number;
    const unassigned = unassignedCost[row] as number;
    if (!Number.isFinite(unassigned) || unassigned < 0) {
      invalid('unassignedCost', `[${row}] must be a finite number ≥ 0, got ${unassigned}`, {
        index: row,
        value: unassigned,
      });
    }
    for (let edge = start; edge < end; edge++) {
      const col = colIndex[edge] as number;
      if (col < 0 || col >= cols) {
        invalid('colIndex', `[${edge}] must be a column in [0, ${cols}), got ${col} (row ${row})`, {
          index: edge,
          row,
          value: col,
        });
      }
      if (lastSeen[col] === row) {
        invalid('colIndex', `[${edge}] repeats column ${col} within row ${row}`, {
          index: edge,
          row,
          value: col,
        });
      }
      lastSeen[col] = row;
      const cost = costs[edge] as number;
      if (!Number.isFinite(cost) || cost < 0) {
        invalid('costs', `[${edge}] must be a finite number ≥ 0, got ${cost} (row ${row})`, {
          index: edge,
          row,
          value: cost,
        });
      }
    }
  }
}

/** One row of {@link problemFromCandidates}: its candidate columns, their costs, and the cost of leaving it out. */
export interface CandidateRow {
  cols: readonly number[];
  costs: readonly number[];
  unassignedCost: number;
}

/**
 * Builds the compressed sparse rows of an {@link AssignmentProblem} from per-row candidate lists, in the given order.
 *
 * @throws TotError `DISPATCH_INVALID_ASSIGNMENT` when a row's `cols` and `costs` differ in length (field
 *   `rows[i].costs`) or the built problem fails {@link validateAssignmentProblem}.
 */
export function problemFromCandidates(rows: readonly CandidateRow[], cols: number): AssignmentProblem {
  let candidates = 0;
  rows.forEach((row, index) => {
    if (row.cols.length !== row.costs.length) {
      invalid(
        `rows[${index}].costs`,
        `must have as many entries as rows[${index}].cols (${row.cols.length})`,
        {
          index,
          value: row.costs.length,
        },
      );
    }
    candidates += row.cols.length;
  });
  const problem: AssignmentProblem = {
    rows: rows.length,
    cols,
    rowStart: new Int32Array(rows.length + 1),
    colIndex: new Int32Array(candidates),
    costs: new Float64Array(candidates),
    unassignedCost: new Float64Array(rows.length),
  };
  let edge = 0;
  rows.forEach((row, index) => {
    problem.rowStart[index] = edge;
    problem.unassignedCost[index] = row.unassignedCost;
    for (let k = 0; k < row.cols.length; k++, edge++) {
      problem.colIndex[edge] = row.cols[k] as number;
      problem.costs[edge] = row.costs[k] as number;
    }
  });
  problem.rowStart[rows.length] = edge;
  validateAssignmentProblem(problem);
  return problem;
}

/**
 * The total cost of assigning `rowToCol` (a column per row, -1 for none) in `problem`: Σ the chosen pairs' costs +
 * Σ unassignedCost of the rows left out. Lets callers check any solver's answer independently of it.
 *
 * @throws TotError `DISPATCH_INVALID_ASSIGNMENT` when the problem is malformed, or `rowToCol` (field `rowToCol`) has
 *   the wrong length, gives a row a column that is not one of its candidates, or uses a column twice.
 */
export function assignmentCost(problem: AssignmentProblem, rowToCol: Int32Array): number {
  validateAssignmentProblem(problem);
  if (!(rowToCol instanceof Int32Array) || rowToCol.length !== problem.rows) {
    invalid('rowToCol', `must be an Int32Array of length ${problem.rows}`);
  }
  const owner = new Int32Array(problem.cols).fill(-1);
  let total = 0;
  for (let row = 0; row < problem.rows; row++) {
    const col = rowToCol[row] as number;
    if (col === -1) {
      total += problem.unassignedCost[row] as number;
      continue;
    }
    let edge = problem.rowStart[row] as number;
    const end = problem.rowStart[row + 1] as number;
    while (edge < end && problem.colIndex[edge] !== col) edge++;
    if (edge === end) {
      invalid('rowToCol', `[${row}] = ${col} is not a candidate of row ${row}`, { index: row, value: col });
    }
    if (owner[col] !== -1) {
      invalid('rowToCol', `[${row}] = ${col} is already used by row ${owner[col]}`, {
        index: row,
        value: col,
      });
    }
    owner[col] = row;
    total += problem.costs[edge] as number;
  }
  return total;
}
