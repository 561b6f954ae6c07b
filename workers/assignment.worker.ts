/**
 * The piscina worker entry for batch assignment: solves one {@link AssignmentRequest} per call with a workspace kept
 * for the thread's lifetime, and moves the answer's array back to the caller. Started by workers/assignment-pool.ts;
 * imports only the protocol and the pure solver.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { AssignmentWorkspace, solveAssignment } from '../dispatch/assignment.ts';
import type { AssignmentRequest, AssignmentResponse } from './assignment-protocol.ts';

const workspace = new AssignmentWorkspace();

/**
 * Solves `request` and returns the response wrapped so that piscina transfers rowToCol's buffer instead of cloning
 * it. A malformed problem gives an `ok: false` response carrying the TotError's code, message and details; any other
 * error is thrown (piscina rejects the caller's promise with it).
 */
export default function solveRequest(request: AssignmentRequest): ReturnType<typeof move> {
  return move(respondTo(request));
}

/** The response to `request` as a piscina Transferable: the value, and the buffers to transfer with it. */
export function respondTo(request: AssignmentRequest): {
  [transferableSymbol]: ArrayBuffer[];
  [valueSymbol]: AssignmentResponse;
} {
  const start = performance.now();
  let response: AssignmentResponse;
  try {
    const solution = solveAssignment(request, workspace);
    response = {
      ok: true,
      rowToCol: solution.rowToCol,
      totalCost: solution.totalCost,
      solveMicroseconds: (performance.now() - start) * 1000,
    };
  } catch (error) {
    if (!isCodedError(error)) throw error;
    response = {
      ok: false,
      error: { code: error.code, message: error.message, details: { ...error.details } },
      solveMicroseconds: (performance.now() - start) * 1000,
    };
  }
  return {
    [transferableSymbol]: response.ok ? [response.rowToCol.buffer as ArrayBuffer] : [],
    [valueSymbol]: response,
  };
}

/** A TotError, recognised by shape so that the worker needs no import beyond the solver and the protocol. */
function isCodedError(
  error: unknown,
): error is Error & { code: string; details: Readonly<Record<string, unknown>> } {
  return (
    error instanceof Error &&
    error.name === 'TotError' &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { details?: unknown }).details === 'object'
  );
}
