import { describe, expect, it } from 'vitest';
import {
  AssignmentWorkspace,
  assignmentCost,
  greedyAssignment,
  lastSolveStatistics,
  solveAssignment,
} from '../../../dispatch/assignment.ts';
import { checkedCost, denseGeometricProblem, randomSparseProblem } from './assignment-model.ts';

describe('solveAssignment on large problems', () => {
  it('1000 rows × 20 candidates: valid, never dearer than greedy, the same optimum on every solver path', () => {
    const problem = randomSparseProblem(1000, 1000, 20, 7);
    const optimal = solveAssignment(problem);
    expect(checkedCost(problem, optimal.rowToCol)).toBeCloseTo(optimal.totalCost, 6);
    expect(assignmentCost(problem, optimal.rowToCol)).toBeCloseTo(optimal.totalCost, 6);
    const greedy = greedyAssignment(problem);
    expect(checkedCost(problem, greedy.rowToCol)).toBeCloseTo(greedy.totalCost, 6);
    expect(greedy.totalCost).toBeGreaterThan(optimal.totalCost);
    for (const options of [
      { reductionPasses: 0, prunedDegree: 0 },
      { reductionPasses: 2, prunedDegree: 5 },
    ]) {
      expect(solveAssignment(problem, undefined, options).totalCost).toBeCloseTo(optimal.totalCost, 6);
    }
    // Rows compete: some are left out, and some take a candidate other than their cheapest.
    expect(optimal.rowToCol.some((col) => col === -1)).toBe(true);
  });

  it('a dense 200 × 200 geometric problem: pruning with repair rounds agrees with the unpruned solve', () => {
    const problem = denseGeometricProblem(200, 3);
    const workspace = new AssignmentWorkspace();
    const pruned = solveAssignment(problem, workspace);
    expect(lastSolveStatistics(workspace)?.edges).toBeLessThan(problem.colIndex.length);
    const full = solveAssignment(problem, workspace, { prunedDegree: 0 });
    expect(lastSolveStatistics(workspace)).toMatchObject({ rounds: 1, edges: problem.colIndex.length });
    expect(pruned.totalCost).toBeCloseTo(full.totalCost, 6);
    expect(checkedCost(problem, pruned.rowToCol)).toBeCloseTo(pruned.totalCost, 6);
    expect([...pruned.rowToCol].every((col) => col >= 0)).toBe(true);
    expect(greedyAssignment(problem).totalCost).toBeGreaterThan(pruned.totalCost);
  });
});
