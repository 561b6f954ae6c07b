import { describe, expect, it } from 'vitest';
import {
  assignmentCost,
  greedyAssignment,
  problemFromCandidates,
  solveAssignment,
} from '../../../dispatch/assignment.ts';
import type { AssignmentProblem } from '../../../dispatch/booking-types.ts';
import { TotError } from '../../../geo/errors.ts';

/** Two rows, three columns: row 0 → {0, 2}, row 1 → {1}. */
function wellFormed(): AssignmentProblem {
  return {
    rows: 2,
    cols: 3,
    rowStart: Int32Array.of(0, 2, 3),
    colIndex: Int32Array.of(0, 2, 1),
    costs: Float64Array.of(1, 2, 3),
    unassignedCost: Float64Array.of(10, 10),
  };
}

function thrown(action: () => unknown): TotError {
  try {
    action();
  } catch (error) {
    if (error instanceof TotError) return error;
    throw error;
  }
  throw new Error('expected a TotError, nothing was thrown');
}

const MALFORMED: {
  what: string;
  change: (p: AssignmentProblem) => unknown;
  field: string;
  index?: number;
}[] = [
  { what: 'rows not an integer', change: (p) => ({ ...p, rows: 1.5 }), field: 'rows' },
  { what: 'negative cols', change: (p) => ({ ...p, cols: -1 }), field: 'cols' },
  { what: 'rowStart of the wrong type', change: (p) => ({ ...p, rowStart: [0, 2, 3] }), field: 'rowStart' },
  { what: 'rowStart too short', change: (p) => ({ ...p, rowStart: Int32Array.of(0, 3) }), field: 'rowStart' },
  {
    what: 'rowStart not starting at 0',
    change: (p) => ({ ...p, rowStart: Int32Array.of(1, 2, 3) }),
    field: 'rowStart',
    index: 0,
  },
  {
    what: 'rowStart decreasing (an offset past the arrays before it)',
    change: (p) => ({ ...p, rowStart: Int32Array.of(0, 4, 3) }),
    field: 'rowStart',
    index: 2,
  },
  {
    what: 'rowStart not ending at colIndex.length',
    change: (p) => ({ ...p, rowStart: Int32Array.of(0, 2, 2) }),
    field: 'rowStart',
    index: 2,
  },
  {
    what: 'costs shorter than colIndex',
    change: (p) => ({ ...p, costs: Float64Array.of(1, 2) }),
    field: 'costs',
  },
  {
    what: 'costs of the wrong type',
    change: (p) => ({ ...p, costs: Float32Array.of(1, 2, 3) }),
    field: 'costs',
  },
  {
    what: 'unassignedCost of the wrong length',
    change: (p) => ({ ...p, unassignedCost: Float64Array.of(10) }),
    field: 'unassignedCost',
  },
  {
    what: 'a column out of range',
    change: (p) => ({ ...p, colIndex: Int32Array.of(0, 3, 1) }),
    field: 'colIndex',
    index: 1,
  },
  {
    what: 'a negative column',
    change: (p) => ({ ...p, colIndex: Int32Array.of(0, 2, -1) }),
    field: 'colIndex',
    index: 2,
  },
  {
    what: 'a column repeated within a row',
    change: (p) => ({ ...p, colIndex: Int32Array.of(2, 2, 1) }),
    field: 'colIndex',
    index: 1,
  },
  {
    what: 'a negative cost',
    change: (p) => ({ ...p, costs: Float64Array.of(1, -0.5, 3) }),
    field: 'costs',
    index: 1,
  },
  {
    what: 'a NaN cost',
    change: (p) => ({ ...p, costs: Float64Array.of(1, 2, Number.NaN) }),
    field: 'costs',
    index: 2,
  },
  {
    what: 'an infinite cost',
    change: (p) => ({ ...p, costs: Float64Array.of(Number.POSITIVE_INFINITY, 2, 3) }),
    field: 'costs',
    index: 0,
  },
  {
    what: 'an infinite unassigned cost',
    change: (p) => ({ ...p, unassignedCost: Float64Array.of(10, Number.POSITIVE_INFINITY) }),
    field: 'unassignedCost',
    index: 1,
  },
  {
    what: 'a negative unassigned cost',
    change: (p) => ({ ...p, unassignedCost: Float64Array.of(-1, 10) }),
    field: 'unassignedCost',
    index: 0,
  },
];

describe('assignment problem validation', () => {
  for (const { what, change, field, index } of MALFORMED) {
    it(`rejects ${what} with DISPATCH_INVALID_ASSIGNMENT naming ${field}`, () => {
      const problem = change(wellFormed()) as AssignmentProblem;
      for (const solve of [() => solveAssignment(problem), () => greedyAssignment(problem)]) {
        const error = thrown(solve);
        expect(error.code).toBe('DISPATCH_INVALID_ASSIGNMENT');
        expect(error.details.field).toBe(field);
        expect(error.message).toContain(field);
        if (index !== undefined) expect(error.details.index).toBe(index);
      }
    });
  }

  it('rejects solver options that are not integers ≥ 0, naming them', () => {
    for (const options of [{ reductionPasses: -1 }, { prunedDegree: 1.5 }, { prunedDegree: Number.NaN }]) {
      const error = thrown(() => solveAssignment(wellFormed(), undefined, options));
      expect(error.code).toBe('DISPATCH_INVALID_ASSIGNMENT');
      expect(error.details.field).toBe(`options.${Object.keys(options)[0]}`);
    }
  });

  it('a repeated column is allowed in different rows', () => {
    const problem = { ...wellFormed(), colIndex: Int32Array.of(0, 1, 1) };
    expect(solveAssignment(problem).totalCost).toBe(4);
  });

  it('leaves the problem unchanged, also when it is rejected', () => {
    const problem = wellFormed();
    const copy = structuredClone(problem);
    solveAssignment(problem);
    greedyAssignment(problem);
    expect(problem).toEqual(copy);
    const bad = { ...wellFormed(), costs: Float64Array.of(1, -2, 3) };
    const badCopy = structuredClone(bad);
    thrown(() => solveAssignment(bad));
    expect(bad).toEqual(badCopy);
  });

  it('problemFromCandidates rejects rows whose cols and costs differ in length', () => {
    const error = thrown(() => problemFromCandidates([{ cols: [0, 1], costs: [1], unassignedCost: 5 }], 2));
    expect(error.code).toBe('DISPATCH_INVALID_ASSIGNMENT');
    expect(error.details.field).toBe('rows[0].costs');
  });

  it('problemFromCandidates validates what it built', () => {
    const error = thrown(() => problemFromCandidates([{ cols: [4], costs: [1], unassignedCost: 5 }], 2));
    expect(error.details).toMatchObject({ field: 'colIndex', index: 0, row: 0, value: 4 });
  });

  it('assignmentCost prices a valid answer and rejects an invalid one', () => {
    const problem = wellFormed();
    expect(assignmentCost(problem, Int32Array.of(2, 1))).toBe(5);
    expect(assignmentCost(problem, Int32Array.of(-1, -1))).toBe(20);
    expect(thrown(() => assignmentCost(problem, Int32Array.of(1, 1))).details).toMatchObject({
      field: 'rowToCol',
      index: 0,
    });
    expect(
      thrown(() => assignmentCost({ ...problem, rowStart: Int32Array.of(0, 1, 3) }, Int32Array.of(0, 0)))
        .details,
    ).toMatchObject({ field: 'rowToCol', index: 1 });
    expect(thrown(() => assignmentCost(problem, Int32Array.of(-1))).details.field).toBe('rowToCol');
  });
});
