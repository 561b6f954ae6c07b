/**
 * The messages between workers/assignment-pool.ts (the calling thread) and workers/assignment.worker.ts (a piscina
 * worker). Types only: both sides import this file, neither imports the other.
 *
 * Large data crosses as typed arrays whose buffers are transferred (moved to the other thread, not copied): the
 * request's four arrays are views of one ArrayBuffer the pool fills and hands over, and the answer's rowToCol
 * travels back the same way. The pool owns packing; after a request is sent the caller still has its own problem.
 */
import type { AssignmentProblem } from '../dispatch/booking-types.ts';

/**
 * A problem to solve: an {@link AssignmentProblem} whose rowStart, colIndex, costs and unassignedCost are views of
 * one transferred buffer (laid out costs, unassignedCost, rowStart, colIndex, so that the Float64 views are aligned),
 * or of the caller's own buffers when it chose to give them up.
 */
export type AssignmentRequest = AssignmentProblem;

/** The worker's answer: the solution and the time the solve took inside the worker. */
export type AssignmentResponse =
  | {
      ok: true;
      /** As in AssignmentSolution: a column per row, -1 for a row left out; its buffer was transferred. */
      rowToCol: Int32Array;
      totalCost: number;
      /** Validation plus solve, measured in the worker, µs: what the thread hop adds is the rest of the round trip. */
      solveMicroseconds: number;
    }
  | {
      ok: false;
      /**
       * A TotError the solver threw (malformed problem), carried as data: errors cross threads by structured clone,
       * which keeps only message and stack, and the caller needs the code and details to rethrow it.
       */
      error: { code: string; message: string; details: Record<string, unknown> };
      solveMicroseconds: number;
    };
