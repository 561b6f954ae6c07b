/**
 * {@link WorkerAssignmentSolver}: the batch assignment solver on piscina worker threads, so that a large batch does
 * not hold the event loop (fixes, sockets and timers keep flowing while it is solved). Small problems are solved in
 * the calling thread, where they finish sooner than the hop to a worker and back would take.
 *
 * Built by the composition root and handed to the dispatcher as its AssignmentSolver; dispatch/ never imports this.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { AssignmentWorkspace, solveAssignment, validateAssignmentShape } from '../dispatch/assignment.ts';
import type { AssignmentProblem, AssignmentSolution, AssignmentSolver } from '../dispatch/booking-types.ts';
import { TotError } from '../geo/errors.ts';
import type { AssignmentRequest, AssignmentResponse } from './assignment-protocol.ts';

/**
 * Problems with fewer candidates plus rows than this are solved in the calling thread. Measured with
 * `npm run bench -- dispatch` (docs/BENCHMARKS.md, threshold sweep): the hop to an idle worker and back costs
 * ≈20 µs plus ≈3 ns per candidate (the copy into the transferred buffer). Bookings spread over the city barely
 * compete and solve in ≈8.5 ns per candidate, so for them the hop never pays in latency; bookings crowded into one
 * district solve in 0.16 ms at 200 bookings × 20 candidates but 6.5 ms at 400, when doctors run short. Below 4 000
 * the event loop is held for at most ≈0.2 ms either way; above it a batch may hold it for milliseconds, which is
 * what the worker is for.
 */
export const DEFAULT_INLINE_BELOW = 4_000;

/** Options of {@link WorkerAssignmentSolver}. */
export interface WorkerAssignmentSolverOptions {
  /** Worker threads kept alive when idle (integer ≥ 0, default 1, so the first large batch does not wait for one). */
  minThreads?: number;
  /** Most worker threads (integer ≥ 1, ≥ minThreads; default: the cores less one for the event loop, at least 1). */
  maxThreads?: number;
  /** ms an idle thread above minThreads lives (default 30 000). */
  idleTimeout?: number;
  /**
   * Problems with fewer candidates (colIndex.length) plus rows than this are solved in the calling thread (integer
   * ≥ 0; default {@link DEFAULT_INLINE_BELOW}; 0 sends every problem to a worker).
   */
  inlineBelow?: number;
  /**
   * true: when each of the problem's four arrays is the whole of its own ArrayBuffer, those buffers are transferred
   * to the worker as they are and the caller's arrays are left detached (length 0) — no copy at all, for callers
   * that build a fresh problem per solve. false (default): the problem is packed into one new buffer that is
   * transferred, and the caller keeps its arrays.
   */
  transferInput?: boolean;
}

/** A solution with where and how long it was solved. */
export interface TimedAssignmentSolution {
  solution: AssignmentSolution;
  /** `inline`: in the calling thread (below the threshold); `worker`: on a pool thread. */
  where: 'inline' | 'worker';
  /** Validation plus solve, µs, measured where it ran. */
  solveMicroseconds: number;
  /** From the call to the answer in the calling thread, µs: for a worker, the solve plus the hop both ways. */
  roundTripMicroseconds: number;
}

/** The request for `problem` and the buffers to transfer with it (see {@link WorkerAssignmentSolverOptions}). */
export function assignmentRequestOf(
  problem: AssignmentProblem,
  transferInput = false,
): { request: AssignmentRequest; transferList: ArrayBuffer[] } {
  const arrays = [problem.rowStart, problem.colIndex, problem.costs, problem.unassignedCost];
  const buffers = arrays.map((array) => array.buffer);
  const ownWholeBuffers =
    arrays.every(
      (array) =>
        array.buffer instanceof ArrayBuffer &&
        array.byteOffset === 0 &&
        array.byteLength === array.buffer.byteLength,
    ) && new Set(buffers).size === buffers.length;
  if (transferInput && ownWholeBuffers) {
    return { request: { ...problem }, transferList: buffers as ArrayBuffer[] };
  }
  const { rows, cols } = problem;
  const edges = problem.colIndex.length;
  // Float64 views first so that they start on 8-byte boundaries.
  const buffer = new ArrayBuffer(8 * (edges + rows) + 4 * (rows + 1 + edges));
  const request: AssignmentRequest = {
    rows,
    cols,
    costs: new Float64Array(buffer, 0, edges),
    unassignedCost: new Float64Array(buffer, 8 * edges, rows),
    rowStart: new Int32Array(buffer, 8 * (edges + rows), rows + 1),
    colIndex: new Int32Array(buffer, 8 * (edges + rows) + 4 * (rows + 1), edges),
  };
  request.costs.set(problem.costs);
  request.unassignedCost.set(problem.unassignedCost);
  request.rowStart.set(problem.rowStart);
  request.colIndex.set(problem.colIndex);
  return { request, transferList: [buffer] };
}

/**
 * How a worker thread can load the worker file. Under tsx (`npm start`, `npm run bench`) the file is TypeScript and
 * threads inherit the parent's `--import …tsx…` flag, so nothing is added. When this thread runs TypeScript without
 * that flag (vitest transforms the files itself), the thread is given tsx's loader. Compiled (dist/, .js) needs
 * nothing. Only `--import` is passed when one is needed: V8 flags such as --expose-gc are refused in a worker's
 * execArgv, while inheriting them (execArgv undefined) is allowed.
 */
function workerExecArgv(workerIsTypeScript: boolean): string[] | undefined {
  if (!workerIsTypeScript || process.execArgv.some((flag) => flag.includes('tsx'))) return undefined;
  const loader = createRequire(import.meta.url).resolve('tsx');
  return ['--import', pathToFileURL(loader).href];
}

function assertCount(field: string, value: number | undefined, minimum: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < minimum)) {
    throw new RangeError(`options.${field} must be an integer ≥ ${minimum}, got ${String(value)}`);
  }
}

/**
 * {@link AssignmentSolver} on a piscina pool running workers/assignment.worker.ts. Answers are those of
 * `solveAssignment` (the same code runs in both places). Call {@link close} at shutdown; solves after it reject.
 */
export class WorkerAssignmentSolver implements AssignmentSolver {
  private readonly pool: Piscina<AssignmentRequest, AssignmentResponse>;
  private readonly inlineBelow: number;
  private readonly transferInput: boolean;
  private readonly workspace = new AssignmentWorkspace();
  private closed = false;

  /** @throws RangeError naming the option when a count is not an integer in range. */
  constructor(options: WorkerAssignmentSolverOptions = {}) {
    assertCount('minThreads', options.minThreads, 0);
    assertCount('maxThreads', options.maxThreads, 1);
    assertCount('idleTimeout', options.idleTimeout, 0);
    assertCount('inlineBelow', options.inlineBelow, 0);
    const minThreads = options.minThreads ?? 1;
    const maxThreads = options.maxThreads ?? Math.max(1, availableParallelism() - 1, minThreads);
    if (maxThreads < minThreads) {
      throw new RangeError(`options.maxThreads (${maxThreads}) must be ≥ options.minThreads (${minThreads})`);
    }
    this.inlineBelow = options.inlineBelow ?? DEFAULT_INLINE_BELOW;
    this.transferInput = options.transferInput ?? false;
    const typescript = import.meta.url.endsWith('.ts');
    const filename = new URL(
      typescript ? './assignment.worker.ts' : './assignment.worker.js',
      import.meta.url,
    );
    this.pool = new Piscina({
      filename: filename.href,
      minThreads,
      maxThreads,
      idleTimeout: options.idleTimeout ?? 30_000,
      execArgv: workerExecArgv(typescript),
    });
  }

  /**
   * Resolves with the optimum of `problem`. Rejects with TotError `DISPATCH_INVALID_ASSIGNMENT` for a malformed
   * problem (arrays of the wrong type or length are caught in the calling thread before anything is sent; bad
   * contents — a column out of range, a negative cost — where the problem is solved, with the same code and
   * details), and with an Error once closed.
   */
  async solve(problem: AssignmentProblem): Promise<AssignmentSolution> {
    return (await this.solveTimed(problem)).solution;
  }

  /** {@link solve}, with where the problem was solved and how long the solve and the round trip took. */
  async solveTimed(problem: AssignmentProblem): Promise<TimedAssignmentSolution> {
    if (this.closed) throw new Error('WorkerAssignmentSolver is closed');
    const start = performance.now();
    // The O(1) part here, so that arrays of the wrong type or length are reported before anything is copied; the
    // contents are checked where they are solved (reading 250k candidates would cost the event loop milliseconds).
    validateAssignmentShape(problem);
    if (problem.colIndex.length + problem.rows < this.inlineBelow) {
      const solution = solveAssignment(problem, this.workspace);
      const elapsed = (performance.now() - start) * 1000;
      return { solution, where: 'inline', solveMicroseconds: elapsed, roundTripMicroseconds: elapsed };
    }
    const { request, transferList } = assignmentRequestOf(problem, this.transferInput);
    const response = await this.pool.run(request, { transferList });
    const roundTripMicroseconds = (performance.now() - start) * 1000;
    if (!response.ok) {
      throw new TotError(response.error.code, response.error.message, response.error.details);
    }
    return {
      solution: { rowToCol: response.rowToCol, totalCost: response.totalCost },
      where: 'worker',
      solveMicroseconds: response.solveMicroseconds,
      roundTripMicroseconds,
    };
  }

  /** Worker threads running now. */
  get threads(): number {
    return this.pool.threads.length;
  }

  /** Waits for solves in flight, then stops the threads. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }
}
