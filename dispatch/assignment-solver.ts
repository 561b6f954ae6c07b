/**
 * The core of the batch assignment solver (dispatch/assignment.ts is its front): successive shortest augmenting paths
 * with dual potentials on a sparse problem, in the form of Jonker & Volgenant (1987, LAPJV and its sparse variant
 * LAPJVsp) as laid out by Crouse (2016, "On implementing 2D rectangular assignment algorithms").
 *
 * Each row's "leave unassigned" is a private dummy column `cols + row` costing unassignedCost[row], so every row is
 * always assigned to something and the problem is a rectangular assignment with rows ≤ columns. An augmenting row
 * reduction (an auction-like bidding pass) first assigns the rows that do not compete; then each row still free runs
 * Dijkstra over the reduced costs (cost − u[row] − v[col], kept ≥ 0 by the potentials) with a binary heap, stops at
 * the first free column it settles, flips the path and updates the potentials of what it settled. A settled column
 * stays assigned, so free columns keep v = 0 and every v ≤ 0 — the dual of "each column at most once" — which with
 * complementary slackness makes the final matching optimal. Work per row is proportional to the part of the graph it
 * explores, never to the column count.
 *
 * Everything the hot loops touch lives in this one module: V8 reads imported bindings through a checked module cell,
 * which cost a factor of 2–4 when the heap and the state constants were imported from a neighbouring file.
 */
import type { AssignmentProblem } from './booking-types.ts';

/** A column's state during one search: not reached yet, reached with a tentative distance, distance final. */
const UNTOUCHED = 0;
const LABELLED = 1;
const SETTLED = 2;

/**
 * Row scans one reduction pass may spend per free row it starts with. A price war between rows over near-equal
 * columns can otherwise go on for many rounds of tiny price steps; past the budget a displaced row waits for the
 * shortest-path phase, which is exact whatever the reduction left.
 */
const REDUCTION_SCANS_PER_ROW = 8;

function growInt32(array: Int32Array<ArrayBuffer>, size: number): Int32Array<ArrayBuffer> {
  return array.length >= size ? array : new Int32Array(Math.max(size, Math.ceil(array.length * 1.5)));
}

function growFloat64(array: Float64Array<ArrayBuffer>, size: number): Float64Array<ArrayBuffer> {
  return array.length >= size ? array : new Float64Array(Math.max(size, Math.ceil(array.length * 1.5)));
}

/**
 * Scratch arrays of the solver, reused between solves so that solving allocates nothing but its answer. Grows to
 * the largest problem seen and never shrinks; one per thread (a solve runs to completion before the next starts).
 * The fields are the solver's working state, exposed for the front module only: read none of them.
 */
export class AssignmentWorkspace {
  /** Per column (real and dummy): potential v, tentative distance, predecessor row and edge, owner row, state. */
  columnPotential = new Float64Array(0);
  distance = new Float64Array(0);
  predecessorRow = new Int32Array(0);
  predecessorEdge = new Int32Array(0);
  columnOwner = new Int32Array(0);
  columnState = new Uint8Array(0);
  /** Indexed binary heap of labelled columns, and each column's position in it (-1 when not in it). */
  heap = new Int32Array(0);
  heapPosition = new Int32Array(0);
  heapSize = 0;
  touchedColumns = new Int32Array(0);
  /** Per row: potential u, assigned column (real or dummy), assigned edge (-1 for the dummy), search and free lists. */
  rowPotential = new Float64Array(0);
  rowColumn = new Int32Array(0);
  rowEdge = new Int32Array(0);
  settledRows = new Int32Array(0);
  freeRows = new Int32Array(0);
  /** The pruned copy of a problem with long rows (dispatch/assignment.ts), and which original edges it holds. */
  prunedRowStart = new Int32Array(0);
  prunedColIndex = new Int32Array(0);
  prunedCosts = new Float64Array(0);
  prunedOrigin = new Int32Array(0);
  included = new Uint8Array(0);
  selection = new Float64Array(0);
  /** The prices a warm-started round begins from, kept to begin again from them. */
  startPrices = new Float64Array(0);

  /** Makes room for `rows` rows and `columns` columns (real plus dummy). */
  reserve(rows: number, columns: number): void {
    if (this.columnOwner.length < columns) {
      const capacity = Math.max(columns, Math.ceil(this.columnOwner.length * 1.5));
      this.columnPotential = new Float64Array(capacity);
      this.distance = new Float64Array(capacity);
      this.predecessorRow = new Int32Array(capacity);
      this.predecessorEdge = new Int32Array(capacity);
      this.columnOwner = new Int32Array(capacity);
      this.columnState = new Uint8Array(capacity);
      this.heap = new Int32Array(capacity);
      this.heapPosition = new Int32Array(capacity);
      this.touchedColumns = new Int32Array(capacity);
    }
    if (this.rowColumn.length < rows) {
      const capacity = Math.max(rows, Math.ceil(this.rowColumn.length * 1.5));
      this.rowPotential = new Float64Array(capacity);
      this.rowColumn = new Int32Array(capacity);
      this.rowEdge = new Int32Array(capacity);
      this.settledRows = new Int32Array(capacity);
      this.freeRows = new Int32Array(capacity);
    }
  }

  /** Makes room for a pruned copy of `rows` rows out of `edges` edges, the longest row having `longest` edges. */
  reservePruning(rows: number, edges: number, longest: number, columns: number): void {
    this.startPrices = growFloat64(this.startPrices, columns);
    this.prunedRowStart = growInt32(this.prunedRowStart, rows + 1);
    this.prunedColIndex = growInt32(this.prunedColIndex, edges);
    this.prunedCosts = growFloat64(this.prunedCosts, edges);
    this.prunedOrigin = growInt32(this.prunedOrigin, edges);
    if (this.included.length < edges)
      this.included = new Uint8Array(Math.max(edges, this.included.length * 1.5));
    this.selection = growFloat64(this.selection, longest);
  }
}

/**
 * Solves a problem already validated, leaving the answer in the workspace: `rowColumn[row]` (a real column, or
 * `cols + row` for "left out"), `rowEdge[row]` (the edge of `problem` chosen, -1 when left out), and potentials
 * `rowPotential`, `columnPotential` that prove it optimal: cost − u − v ≥ 0 on every edge and dummy, = 0 on the
 * chosen ones, v ≤ 0, v = 0 on free columns.
 *
 * With `warm`, the column potentials already in the workspace (from a solve of the same rows and columns over fewer
 * edges) are the starting prices instead of 0: any v ≤ 0 is a valid start (with every row free and u = 0, all
 * reduced costs are ≥ 0), and prices near the final ones make the augmenting paths short. What a warm start cannot
 * promise is the last condition, v = 0 on the columns left free: a column that starts below 0 may end up unused (a
 * free column is never settled, so it keeps its starting price). A warm solve checks that and returns false when it
 * fails; the caller then starts again with those columns' prices at 0. A cold solve always returns true.
 *
 * @param reductionPasses passes of augmenting row reduction before the shortest paths (0: none).
 */
export function solveValidated(
  problem: AssignmentProblem,
  w: AssignmentWorkspace,
  reductionPasses: number,
  warm = false,
): boolean {
  const { rows, cols } = problem;
  const columns = cols + rows;
  w.reserve(rows, columns);
  if (!warm) w.columnPotential.fill(0, 0, columns);
  w.columnOwner.fill(-1, 0, columns);
  w.columnState.fill(UNTOUCHED, 0, columns);
  w.heapPosition.fill(-1, 0, columns);
  w.rowPotential.fill(0, 0, rows);
  w.rowColumn.fill(-1, 0, rows);
  w.rowEdge.fill(-1, 0, rows);
  for (let row = 0; row < rows; row++) w.freeRows[row] = row;
  let free = rows;
  for (let pass = 0; pass < reductionPasses && free > 0; pass++) free = reduceRows(problem, w, free);
  // A row assigned by the reduction sits on a column of least reduced cost, so u = cost − v is feasible for it;
  // free rows keep u = 0, feasible because v ≤ 0 and costs ≥ 0.
  for (let row = 0; row < rows; row++) {
    const col = w.rowColumn[row] as number;
    if (col < 0) continue;
    const edge = w.rowEdge[row] as number;
    const cost = edge >= 0 ? (problem.costs[edge] as number) : (problem.unassignedCost[row] as number);
    w.rowPotential[row] = cost - (w.columnPotential[col] as number);
  }
  for (let k = 0; k < free; k++) augmentFrom(problem, w, w.freeRows[k] as number);
  if (!warm) return true;
  for (let col = 0; col < columns; col++) {
    if ((w.columnOwner[col] as number) < 0 && (w.columnPotential[col] as number) < 0) return false;
  }
  return true;
}

/**
 * One pass of Jonker & Volgenant's augmenting row reduction over the `free` rows listed in `w.freeRows`: each takes
 * the column of least reduced cost (cost − v), lowering that column's v until it is only as attractive as the row's
 * second choice (an auction bid); a row it displaces bids next at once. Keeps every assigned row on a column of least
 * reduced cost, lowers prices only on columns it assigns (which stay assigned), and never raises one: what the
 * shortest-path phase needs. Returns how many rows are still free (listed first in `w.freeRows`).
 */
function reduceRows(problem: AssignmentProblem, w: AssignmentWorkspace, free: number): number {
  const { cols, rowStart, colIndex, costs, unassignedCost } = problem;
  const { columnPotential, columnOwner, rowColumn, rowEdge, freeRows } = w;
  const budget = free * REDUCTION_SCANS_PER_ROW;
  let scans = 0;
  let current = 0;
  let stillFree = 0;
  while (current < free) {
    const row = freeRows[current++] as number;
    scans++;
    // The dummy column first, so that a row with no candidates has it as its only choice.
    let best = (unassignedCost[row] as number) - (columnPotential[cols + row] as number);
    let bestCol = cols + row;
    let bestEdge = -1;
    let second = Number.POSITIVE_INFINITY;
    let secondCol = -1;
    let secondEdge = -1;
    const end = rowStart[row + 1] as number;
    for (let edge = rowStart[row] as number; edge < end; edge++) {
      const col = colIndex[edge] as number;
      const reduced = (costs[edge] as number) - (columnPotential[col] as number);
      if (reduced < second) {
        if (reduced < best) {
          second = best;
          secondCol = bestCol;
          secondEdge = bestEdge;
          best = reduced;
          bestCol = col;
          bestEdge = edge;
        } else {
          second = reduced;
          secondCol = col;
          secondEdge = edge;
        }
      }
    }
    let displaced = columnOwner[bestCol] as number;
    if (best < second) {
      // With its dummy column only, a row has second = ∞ and nobody to outbid: the price stays.
      if (second < Number.POSITIVE_INFINITY) {
        columnPotential[bestCol] = (columnPotential[bestCol] as number) - (second - best);
      }
    } else if (displaced >= 0) {
      // A tie: take the other column of least reduced cost rather than displace anyone for nothing.
      bestCol = secondCol;
      bestEdge = secondEdge;
      displaced = columnOwner[secondCol] as number;
    }
    if (displaced >= 0) {
      rowColumn[displaced] = -1;
      rowEdge[displaced] = -1;
      if (best < second && scans < budget) freeRows[--current] = displaced;
      else freeRows[stillFree++] = displaced;
    }
    columnOwner[bestCol] = row;
    rowColumn[row] = bestCol;
    rowEdge[row] = bestEdge;
  }
  return stillFree;
}

/** Labels `col` at `candidate` through `row` and `edge` (-1: the dummy) when that is shorter than what it has. */
function relax(
  w: AssignmentWorkspace,
  col: number,
  candidate: number,
  row: number,
  edge: number,
  touched: number,
): number {
  const state = w.columnState[col] as number;
  if (state === UNTOUCHED) {
    w.columnState[col] = LABELLED;
    w.touchedColumns[touched++] = col;
    w.distance[col] = candidate;
    w.predecessorRow[col] = row;
    w.predecessorEdge[col] = edge;
    heapPush(w, col);
  } else if (state === LABELLED && candidate < (w.distance[col] as number)) {
    w.distance[col] = candidate;
    w.predecessorRow[col] = row;
    w.predecessorEdge[col] = edge;
    heapSiftUp(w, w.heapPosition[col] as number);
  }
  return touched;
}

/** Assigns the free row `start` along a shortest augmenting path and updates the potentials. */
function augmentFrom(problem: AssignmentProblem, w: AssignmentWorkspace, start: number): void {
  const { cols, rowStart, colIndex, costs, unassignedCost } = problem;
  const { columnPotential, distance, predecessorRow, predecessorEdge, columnOwner, columnState } = w;
  const { touchedColumns, heapPosition, rowPotential, rowColumn, rowEdge, settledRows } = w;
  let touched = 0;
  let settledRowCount = 0;
  w.heapSize = 0;
  let reached = 0;
  let row = start;
  let sink: number;
  for (;;) {
    settledRows[settledRowCount++] = row;
    // Distance of a column reached through `row`: how far `row` is + the edge's reduced cost.
    const base = reached - (rowPotential[row] as number);
    const end = rowStart[row + 1] as number;
    for (let edge = rowStart[row] as number; edge < end; edge++) {
      const col = colIndex[edge] as number;
      if (columnState[col] === SETTLED) continue;
      touched = relax(
        w,
        col,
        base + (costs[edge] as number) - (columnPotential[col] as number),
        row,
        edge,
        touched,
      );
    }
    const dummy = cols + row;
    touched = relax(
      w,
      dummy,
      base + (unassignedCost[row] as number) - (columnPotential[dummy] as number),
      row,
      -1,
      touched,
    );
    // Never empty: the start row's own dummy column is free and was labelled on the first pass.
    const col = heapPop(w);
    columnState[col] = SETTLED;
    reached = distance[col] as number;
    const owner = columnOwner[col] as number;
    if (owner < 0) {
      sink = col;
      break;
    }
    row = owner;
  }

  // Potentials (Crouse 2016, algorithm 1): settled rows and columns move by how much nearer than the sink they are,
  // which keeps every reduced cost ≥ 0 and makes the path's edges 0.
  rowPotential[start] = (rowPotential[start] as number) + reached;
  for (let k = 1; k < settledRowCount; k++) {
    const settled = settledRows[k] as number;
    rowPotential[settled] =
      (rowPotential[settled] as number) + reached - (distance[rowColumn[settled] as number] as number);
  }
  for (let k = 0; k < touched; k++) {
    const col = touchedColumns[k] as number;
    if (columnState[col] === SETTLED) {
      columnPotential[col] = (columnPotential[col] as number) - (reached - (distance[col] as number));
    }
    columnState[col] = UNTOUCHED;
    heapPosition[col] = -1;
  }

  // Flip the path: each row on it takes the column that led to it.
  let col = sink;
  for (;;) {
    const pathRow = predecessorRow[col] as number;
    const previous = rowColumn[pathRow] as number;
    columnOwner[col] = pathRow;
    rowColumn[pathRow] = col;
    rowEdge[pathRow] = predecessorEdge[col] as number;
    if (pathRow === start) break;
    col = previous;
  }
}

/**
 * Whether column `a` comes before `b` in the heap: nearer first; at equal distance a free column first, so the search
 * stops as soon as it can; then the lower column, so that the answer does not depend on the heap's history.
 */
function before(w: AssignmentWorkspace, a: number, b: number): boolean {
  const da = w.distance[a] as number;
  const db = w.distance[b] as number;
  if (da !== db) return da < db;
  const freeA = (w.columnOwner[a] as number) < 0;
  const freeB = (w.columnOwner[b] as number) < 0;
  if (freeA !== freeB) return freeA;
  return a < b;
}

function heapPush(w: AssignmentWorkspace, col: number): void {
  const at = w.heapSize++;
  w.heap[at] = col;
  w.heapPosition[col] = at;
  heapSiftUp(w, at);
}

function heapSiftUp(w: AssignmentWorkspace, at: number): void {
  const { heap, heapPosition } = w;
  const col = heap[at] as number;
  while (at > 0) {
    const parentAt = (at - 1) >> 1;
    const parent = heap[parentAt] as number;
    if (!before(w, col, parent)) break;
    heap[at] = parent;
    heapPosition[parent] = at;
    at = parentAt;
  }
  heap[at] = col;
  heapPosition[col] = at;
}

function heapPop(w: AssignmentWorkspace): number {
  const { heap, heapPosition } = w;
  const top = heap[0] as number;
  const size = --w.heapSize;
  heapPosition[top] = -1;
  if (size === 0) return top;
  const col = heap[size] as number;
  let at = 0;
  for (;;) {
    let child = 2 * at + 1;
    if (child >= size) break;
    const right = child + 1;
    if (right < size && before(w, heap[right] as number, heap[child] as number)) child = right;
    const childCol = heap[child] as number;
    if (!before(w, childCol, col)) break;
    heap[at] = childCol;
    heapPosition[childCol] = at;
    at = child;
  }
  heap[at] = col;
  heapPosition[col] = at;
  return top;
}
