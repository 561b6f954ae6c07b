import { afterAll, describe, expect, it } from 'vitest';
import { greedyAssignment, solveAssignment } from '../../../dispatch/assignment.ts';
import { TotError } from '../../../geo/errors.ts';
import { WorkerAssignmentSolver, assignmentRequestOf } from '../../../workers/assignment-pool.ts';
import { respondTo } from '../../../workers/assignment.worker.ts';
import { transferableSymbol, valueSymbol } from 'piscina';
import { checkedCost, denseGeometricProblem, randomSparseProblem } from '../dispatch/assignment-model.ts';

// Every problem goes to a worker here; the threshold has its own test.
const pool = new WorkerAssignmentSolver({ minThreads: 1, maxThreads: 2, inlineBelow: 0 });
const transferring = new WorkerAssignmentSolver({
  minThreads: 0,
  maxThreads: 1,
  inlineBelow: 0,
  transferInput: true,
});
const inlineSmall = new WorkerAssignmentSolver({ minThreads: 0, maxThreads: 1, inlineBelow: 1_000 });

afterAll(async () => {
  await Promise.all([pool.close(), transferring.close(), inlineSmall.close()]);
});

describe('WorkerAssignmentSolver', () => {
  it('answers as the in-thread solver does, from a worker thread', async () => {
    for (const problem of [randomSparseProblem(400, 500, 12, 11), denseGeometricProblem(120, 5)]) {
      const expected = solveAssignment(problem);
      const timed = await pool.solveTimed(problem);
      expect(timed.where).toBe('worker');
      expect([...timed.solution.rowToCol]).toEqual([...expected.rowToCol]);
      expect(timed.solution.totalCost).toBe(expected.totalCost);
      expect(checkedCost(problem, timed.solution.rowToCol)).toBeCloseTo(expected.totalCost, 6);
      expect(timed.solveMicroseconds).toBeGreaterThan(0);
      expect(timed.roundTripMicroseconds).toBeGreaterThan(timed.solveMicroseconds);
    }
    expect(pool.threads).toBeGreaterThanOrEqual(1);
  });

  it('solves several problems at once on several threads, each with its own answer', async () => {
    const problems = [1, 2, 3, 4].map((seed) => randomSparseProblem(200, 300, 8, seed));
    const answers = await Promise.all(problems.map((problem) => pool.solve(problem)));
    answers.forEach((answer, i) => {
      expect(answer.totalCost).toBe(solveAssignment(problems[i] as (typeof problems)[number]).totalCost);
    });
  });

  it('packs the problem into one buffer that is transferred, and leaves the caller its arrays', async () => {
    const problem = randomSparseProblem(50, 60, 5, 3);
    const { request, transferList } = assignmentRequestOf(problem);
    expect(transferList).toHaveLength(1);
    const buffer = transferList[0] as ArrayBuffer;
    for (const array of [request.rowStart, request.colIndex, request.costs, request.unassignedCost]) {
      expect(array.buffer).toBe(buffer);
    }
    expect(request).toEqual(problem);

    const before = structuredClone(problem);
    await pool.solve(problem);
    expect(problem).toEqual(before);
  });

  it('with transferInput, moves the caller’s own buffers (detached afterwards) instead of copying', async () => {
    const problem = randomSparseProblem(60, 80, 6, 9);
    const expected = solveAssignment(problem);
    const solution = await transferring.solve(problem);
    expect(solution.totalCost).toBe(expected.totalCost);
    for (const array of [problem.rowStart, problem.colIndex, problem.costs, problem.unassignedCost]) {
      expect(array.byteLength).toBe(0);
    }
  });

  it('with transferInput, copies arrays that share a buffer rather than detach a stranger’s data', async () => {
    const problem = randomSparseProblem(30, 40, 4, 2);
    const shared = new Float64Array(problem.costs.length + problem.rows);
    shared.set(problem.costs);
    shared.set(problem.unassignedCost, problem.costs.length);
    const view = {
      ...problem,
      costs: shared.subarray(0, problem.costs.length),
      unassignedCost: shared.subarray(problem.costs.length),
    };
    const { transferList } = assignmentRequestOf(view, true);
    expect(transferList).toHaveLength(1);
    expect(transferList[0]).not.toBe(shared.buffer);
    expect((await transferring.solve(view)).totalCost).toBe(solveAssignment(problem).totalCost);
    expect(shared.byteLength).toBeGreaterThan(0);
  });

  it('the worker moves its answer back: rowToCol’s buffer is in the transfer list', () => {
    const problem = randomSparseProblem(20, 30, 3, 4);
    const movable = respondTo(assignmentRequestOf(problem).request);
    const response = movable[valueSymbol];
    if (!response.ok) throw new Error('expected a solution');
    expect(movable[transferableSymbol]).toEqual([response.rowToCol.buffer]);
    expect(response.totalCost).toBe(solveAssignment(problem).totalCost);
  });

  it('the worker reports a malformed problem as data with the TotError’s code and details', () => {
    const problem = { ...randomSparseProblem(5, 5, 2, 1), cols: 1 };
    const response = respondTo(problem)[valueSymbol];
    expect(response).toMatchObject({
      ok: false,
      error: { code: 'DISPATCH_INVALID_ASSIGNMENT', details: { field: 'colIndex' } },
    });
  });

  it('rejects arrays of the wrong length with the TotError, in the calling thread', async () => {
    const problem = { ...randomSparseProblem(5, 5, 2, 1), costs: new Float64Array(1) };
    const error = await pool.solve(problem).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TotError);
    expect(error).toMatchObject({ code: 'DISPATCH_INVALID_ASSIGNMENT', details: { field: 'costs' } });
  });

  it('rejects bad contents found in the worker with a TotError carrying its code and details', async () => {
    const valid = randomSparseProblem(5, 5, 2, 1);
    const costs = valid.costs.slice();
    costs[3] = -1;
    const error = await pool.solve({ ...valid, costs }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TotError);
    expect(error).toMatchObject({
      code: 'DISPATCH_INVALID_ASSIGNMENT',
      details: { field: 'costs', index: 3, value: -1 },
    });
  });

  it('solves problems below the threshold in the calling thread and larger ones on a worker', async () => {
    const small = randomSparseProblem(40, 50, 5, 6);
    const large = randomSparseProblem(100, 120, 10, 6);
    const smallAnswer = await inlineSmall.solveTimed(small);
    expect(smallAnswer.where).toBe('inline');
    expect(smallAnswer.solution.totalCost).toBe(solveAssignment(small).totalCost);
    const largeAnswer = await inlineSmall.solveTimed(large);
    expect(largeAnswer.where).toBe('worker');
    expect(largeAnswer.solution.totalCost).toBe(solveAssignment(large).totalCost);
    expect(greedyAssignment(large).totalCost).toBeGreaterThanOrEqual(largeAnswer.solution.totalCost);
  });

  it('refuses bad options, naming them', () => {
    expect(() => new WorkerAssignmentSolver({ inlineBelow: -1 })).toThrow(/options\.inlineBelow/);
    expect(() => new WorkerAssignmentSolver({ minThreads: 3, maxThreads: 2 })).toThrow(/options\.maxThreads/);
    expect(() => new WorkerAssignmentSolver({ maxThreads: 1.5 })).toThrow(/options\.maxThreads/);
  });

  it('rejects solves once closed, and closing twice is harmless', async () => {
    const solver = new WorkerAssignmentSolver({ minThreads: 0, maxThreads: 1, inlineBelow: 0 });
    const problem = randomSparseProblem(10, 10, 2, 8);
    expect((await solver.solve(problem)).totalCost).toBe(solveAssignment(problem).totalCost);
    await solver.close();
    await solver.close();
    await expect(solver.solve(problem)).rejects.toThrow(/closed/);
  });
});
