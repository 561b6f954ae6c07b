import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AssignmentWorkspace,
  InThreadAssignmentSolver,
  type SolveOptions,
  greedyAssignment,
  lastSolveStatistics,
  problemFromCandidates,
  solveAssignment,
} from '../../../dispatch/assignment.ts';
import { bruteForceOptimum, checkedCost, modelProblemArbitrary, toProblem } from './assignment-model.ts';

/**
 * Every path through the solver: shortest paths alone, with the row reduction, and with rows pruned to 1 or 2
 * candidates so that the repair rounds (warm-started) run on almost every problem.
 */
const OPTION_SETS: { name: string; options: SolveOptions }[] = [
  { name: 'defaults', options: {} },
  { name: 'shortest paths only', options: { reductionPasses: 0, prunedDegree: 0 } },
  { name: 'row reduction, no pruning', options: { reductionPasses: 2, prunedDegree: 0 } },
  { name: 'pruned to 1, no reduction', options: { reductionPasses: 0, prunedDegree: 1 } },
  { name: 'pruned to 2, with reduction', options: { reductionPasses: 2, prunedDegree: 2 } },
  { name: 'pruned to 1, one round then the whole problem', options: { prunedDegree: 1, prunedRounds: 1 } },
];

describe('solveAssignment equals a brute force', () => {
  for (const { name, options } of OPTION_SETS) {
    it(`on small random problems with integer costs (ties, zero costs, empty rows, unwanted columns): ${name}`, () => {
      const workspace = new AssignmentWorkspace();
      fc.assert(
        fc.property(modelProblemArbitrary(6, 6), (model) => {
          const problem = toProblem(model);
          const solution = solveAssignment(problem, workspace, options);
          const optimum = bruteForceOptimum(model);
          expect(checkedCost(problem, solution.rowToCol)).toBe(optimum);
          expect(solution.totalCost).toBe(optimum);
        }),
        { numRuns: 600 },
      );
    });
  }

  it('pruning is repaired: rows whose best partner lies beyond their cheapest candidates', () => {
    // Rows 0 and 1 both rank column 0 first; row 1's second choice is cheap, row 0's is dear. Pruned to one
    // candidate each, the first round gives column 0 to one row and leaves the other out; the repair must find
    // row 1's column 1.
    const problem = problemFromCandidates(
      [
        { cols: [0, 2], costs: [1, 50], unassignedCost: 100 },
        { cols: [0, 1], costs: [2, 3], unassignedCost: 100 },
      ],
      3,
    );
    const workspace = new AssignmentWorkspace();
    const solution = solveAssignment(problem, workspace, { prunedDegree: 1 });
    expect([...solution.rowToCol]).toEqual([0, 1]);
    expect(solution.totalCost).toBe(4);
    expect(lastSolveStatistics(workspace)?.rounds).toBeGreaterThan(1);
  });

  it('on small random problems with fractional costs', () => {
    fc.assert(
      fc.property(modelProblemArbitrary(6, 6, true), (model) => {
        const problem = toProblem(model);
        const solution = solveAssignment(problem, undefined, { prunedDegree: 2 });
        const optimum = bruteForceOptimum(model);
        expect(checkedCost(problem, solution.rowToCol)).toBeCloseTo(optimum, 9);
        expect(solution.totalCost).toBeCloseTo(optimum, 9);
      }),
      { numRuns: 1000 },
    );
  });

  it('with one workspace reused across problems of changing shapes', () => {
    const workspace = new AssignmentWorkspace();
    fc.assert(
      fc.property(fc.array(modelProblemArbitrary(6, 6), { minLength: 1, maxLength: 6 }), (models) => {
        for (const model of models) {
          const solution = solveAssignment(toProblem(model), workspace, { prunedDegree: 3 });
          expect(solution.totalCost).toBe(bruteForceOptimum(model));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('greedy is never cheaper than the optimum, and is valid', () => {
    fc.assert(
      fc.property(modelProblemArbitrary(6, 6), (model) => {
        const problem = toProblem(model);
        const greedy = greedyAssignment(problem);
        expect(checkedCost(problem, greedy.rowToCol)).toBe(greedy.totalCost);
        expect(greedy.totalCost).toBeGreaterThanOrEqual(solveAssignment(problem).totalCost);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('solveAssignment golden cases', () => {
  it('an empty problem costs nothing', () => {
    const solution = solveAssignment(problemFromCandidates([], 0));
    expect(solution.rowToCol).toEqual(new Int32Array(0));
    expect(solution.totalCost).toBe(0);
  });

  it('rows with no columns stay out', () => {
    const problem = problemFromCandidates(
      [
        { cols: [], costs: [], unassignedCost: 7 },
        { cols: [], costs: [], unassignedCost: 0 },
      ],
      0,
    );
    const solution = solveAssignment(problem);
    expect([...solution.rowToCol]).toEqual([-1, -1]);
    expect(solution.totalCost).toBe(7);
  });

  it('the classic 3×3 where greedy row order goes wrong', () => {
    // Greedy: row 0 takes col 0 (1), row 1 then col 1 (4)... the optimum trades row 0 to col 1.
    const problem = problemFromCandidates(
      [
        { cols: [0, 1, 2], costs: [1, 2, 9], unassignedCost: 100 },
        { cols: [0, 1, 2], costs: [2, 9, 9], unassignedCost: 100 },
        { cols: [0, 1, 2], costs: [9, 9, 3], unassignedCost: 100 },
      ],
      3,
    );
    const optimal = solveAssignment(problem);
    expect([...optimal.rowToCol]).toEqual([1, 0, 2]);
    expect(optimal.totalCost).toBe(7);
    const greedy = greedyAssignment(problem);
    expect([...greedy.rowToCol]).toEqual([0, 1, 2]);
    expect(greedy.totalCost).toBe(13);
  });

  it('leaves a row out when that is cheaper than displacing another', () => {
    // Both want column 0; row 1 has a dear alternative (50) but staying out costs 10.
    const problem = problemFromCandidates(
      [
        { cols: [0], costs: [5], unassignedCost: 100 },
        { cols: [0, 1], costs: [1, 50], unassignedCost: 10 },
      ],
      2,
    );
    const solution = solveAssignment(problem);
    expect([...solution.rowToCol]).toEqual([0, -1]);
    expect(solution.totalCost).toBe(15);
  });

  it('a row whose unassigned cost is below every candidate stays out even with free columns', () => {
    const problem = problemFromCandidates([{ cols: [0, 1], costs: [3, 4], unassignedCost: 2 }], 2);
    const solution = solveAssignment(problem);
    expect([...solution.rowToCol]).toEqual([-1]);
    expect(solution.totalCost).toBe(2);
  });

  it('a long augmenting chain: each new row pushes all previous ones one column over', () => {
    // Row r wants column r at cost 0 and column r + 1 at cost 1; rows are given last to first.
    const n = 50;
    const rows = Array.from({ length: n }, (_, i) => {
      const r = n - 1 - i;
      return { cols: [r, r + 1], costs: [0, 1], unassignedCost: 1000 };
    });
    const solution = solveAssignment(problemFromCandidates(rows, n + 1));
    expect(solution.totalCost).toBe(0);
    expect([...solution.rowToCol]).toEqual(rows.map((row) => row.cols[0]));
  });

  it('InThreadAssignmentSolver resolves with the same answer and rejects a malformed problem', async () => {
    const solver = new InThreadAssignmentSolver();
    const problem = problemFromCandidates(
      [
        { cols: [0, 1], costs: [4, 1], unassignedCost: 9 },
        { cols: [1], costs: [2], unassignedCost: 9 },
      ],
      2,
    );
    const solution = await solver.solve(problem);
    expect([...solution.rowToCol]).toEqual([0, 1]);
    expect(solution.totalCost).toBe(6);
    await expect(solver.solve({ ...problem, cols: 1 })).rejects.toMatchObject({
      code: 'DISPATCH_INVALID_ASSIGNMENT',
    });
  });
});
