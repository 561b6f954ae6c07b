import { describe, expect, it } from 'vitest';
import { GroupCommit, type GroupItem } from '../../../dispatch/group-commit.ts';
import { urgentWork } from '../../../dispatch/time-slice.ts';

interface Item extends GroupItem<'a' | 'b'> {
  /** Refused on its own with this message. */
  refuse?: string;
  /** Sinks any statement it is in. */
  poison?: boolean;
}

const item = (bookingId: string, overrides: Partial<Item> = {}): Item => ({
  kind: 'a',
  bookingId,
  doctorIds: [],
  urgent: false,
  ...overrides,
});

/** A writer whose statements finish only when the test releases them, recording each group it was given. */
function heldWriter() {
  const groups: string[][] = [];
  const releases: (() => void)[] = [];
  const write = async (_kind: string, items: readonly Item[]) => {
    groups.push(items.map((entry) => entry.bookingId));
    await new Promise<void>((resolve) => releases.push(resolve));
    if (items.some((entry) => entry.poison)) throw new Error('statement failed');
    return items.map((entry) => (entry.refuse === undefined ? undefined : new Error(entry.refuse)));
  };
  const releaseAll = async () => {
    while (releases.length > 0) {
      releases.splice(0).forEach((release) => release());
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { groups, write, releaseAll };
}

describe('group commit', () => {
  it('sends a write to an idle store at once and alone, and groups what arrives while it is busy', async () => {
    const writer = heldWriter();
    const commit = new GroupCommit(writer.write, { maxInFlight: 1 });
    const first = commit.submit(item('b1'));
    expect(writer.groups).toEqual([['b1']]);
    const rest = ['b2', 'b3', 'b4'].map((id) => commit.submit(item(id)));
    expect(commit.waiting).toBe(3);
    await writer.releaseAll();
    await Promise.all([first, ...rest]);
    expect(writer.groups).toEqual([['b1'], ['b2', 'b3', 'b4']]);
    expect(commit.stats()).toEqual({ statements: 2, writes: 4, retried: 0 });
  });

  it('sends urgent writes first, and never one booking or one doctor twice in a group', async () => {
    const writer = heldWriter();
    const commit = new GroupCommit(writer.write, { maxInFlight: 1 });
    const all = [
      commit.submit(item('busy')),
      commit.submit(item('r1', { doctorIds: ['d1'] })),
      commit.submit(item('r2', { doctorIds: ['d1'] })),
      commit.submit(item('r1')),
      commit.submit(item('u1', { urgent: true, doctorIds: ['d2'] })),
      commit.submit(item('other-kind', { kind: 'b' })),
    ];
    await writer.releaseAll();
    await Promise.all(all);
    expect(writer.groups).toEqual([['busy'], ['u1', 'r1'], ['r2', 'r1'], ['other-kind']]);
  });

  it('keeps the last slot for urgent writes, and keeps to the largest group', async () => {
    const writer = heldWriter();
    const commit = new GroupCommit(writer.write, { maxInFlight: 2, maxGroup: 2 });
    const routine = ['a', 'b', 'c', 'd', 'e'].map((id) => commit.submit(item(id)));
    // One routine statement at a time: the second slot waits for an urgent write.
    expect(writer.groups).toEqual([['a']]);
    const urgent = commit.submit(item('u', { urgent: true }));
    expect(writer.groups).toEqual([['a'], ['u']]);
    await writer.releaseAll();
    await Promise.all([...routine, urgent]);
    expect(writer.groups).toEqual([['a'], ['u'], ['b', 'c'], ['d', 'e']]);
  });

  it('answers each write: refused ones reject with their own error, a failed statement is split until it is found', async () => {
    const writer = heldWriter();
    const commit = new GroupCommit(writer.write, { maxInFlight: 1 });
    const busy = commit.submit(item('busy'));
    const ids = ['w1', 'w2', 'w3', 'w4', 'w5'];
    const outcomes = ids.map((id) =>
      commit.submit(item(id, { poison: id === 'w4', ...(id === 'w2' ? { refuse: 'stale' } : {}) })).then(
        () => 'written',
        (error: Error) => error.message,
      ),
    );
    await writer.releaseAll();
    await busy;
    expect(await Promise.all(outcomes)).toEqual([
      'written',
      'stale',
      'written',
      'statement failed',
      'written',
    ]);
    expect(writer.groups).toEqual([
      ['busy'],
      ['w1', 'w2', 'w3', 'w4', 'w5'],
      ['w1', 'w2', 'w3'],
      ['w4', 'w5'],
      ['w4'],
      ['w5'],
    ]);
    expect(commit.stats()).toEqual({ statements: 6, writes: 6, retried: 7 });
  });
});

describe('group commit answers', () => {
  /**
   * One slot; the first write goes out alone, the next three wait and go out as one group, whose statement schedules
   * an I/O-like callback (`io`) just before it answers. Returns the order in which the callers heard back and `io` ran.
   */
  async function answerOrder(duringUrgentWork: boolean): Promise<string[]> {
    const order: string[] = [];
    let releaseFirst = () => {};
    const commit = new GroupCommit<'a' | 'b', Item>(
      async (_kind, items) => {
        if (items.length === 1) await new Promise<void>((resolve) => (releaseFirst = resolve));
        else setImmediate(() => order.push('io'));
        return items.map(() => undefined);
      },
      { maxInFlight: 1 },
    );
    const writes = ['first', 'b', 'c', 'd'].map((id) =>
      commit.submit(item(id)).then(() => {
        order.push(id);
      }),
    );
    const answered = async () => {
      releaseFirst();
      await Promise.all(writes);
    };
    if (duringUrgentWork) await urgentWork.run(answered);
    else await answered();
    await new Promise((resolve) => setImmediate(resolve));
    return order;
  }

  it('answers a group in one go when nothing urgent is in flight', async () => {
    expect(await answerOrder(false)).toEqual(['first', 'b', 'c', 'd', 'io']);
  });

  it('lets waiting work in between its answers while urgent work is in flight', async () => {
    expect(await answerOrder(true)).toEqual(['first', 'b', 'io', 'c', 'd']);
  });
});
