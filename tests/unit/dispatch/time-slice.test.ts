import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { startInSlices, TimeSlice, urgentWork } from '../../../dispatch/time-slice.ts';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('time slices', () => {
  it('lets waiting work run between slices of a long loop, and not within a slice', async () => {
    const slice = new TimeSlice(2);
    let ranAt = -1;
    setImmediate(() => {
      ranAt = step;
    });
    let step = 0;
    for (; step < 10; step++) {
      busy(1);
      await slice.pause();
    }
    // Ten steps of at least 1 ms in slices of 2 ms: the waiting callback ran once the first slice was used up (after
    // the first or second step), not at the end.
    expect(ranAt).toBeGreaterThanOrEqual(0);
    expect(ranAt).toBeLessThanOrEqual(2);
    expect(slice.pauses).toBeGreaterThanOrEqual(3);
  });

  it('does not give way while the slice lasts', async () => {
    const slice = new TimeSlice(1_000);
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    for (let step = 0; step < 100; step++) await slice.pause();
    expect(ran).toBe(false);
    expect(slice.pauses).toBe(0);
  });
});

describe('urgent work', () => {
  it('makes a slice give way after every item while it is in flight, and only then', async () => {
    const slice = new TimeSlice(1_000);
    let release = () => {};
    const urgent = urgentWork.run(() => new Promise<string>((resolve) => (release = () => resolve('done'))));
    expect(urgentWork.pending).toBe(true);
    let ran = 0;
    setImmediate(() => ran++);
    await slice.pause();
    // A slice of a second, yet it gave way at once: the waiting callback ran.
    expect(ran).toBe(1);
    expect(slice.pauses).toBe(1);
    release();
    expect(await urgent).toBe('done');
    expect(urgentWork.pending).toBe(false);
    setImmediate(() => ran++);
    for (let step = 0; step < 100; step++) await slice.pause();
    expect(ran).toBe(1);
    expect(slice.pauses).toBe(1);
  });

  it('ends when the work fails too', async () => {
    await expect(urgentWork.run(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(urgentWork.pending).toBe(false);
  });
});

describe('startInSlices', () => {
  it('starts every item without waiting for the earlier ones, and gives the results in order', async () => {
    const started: number[] = [];
    const finishers: (() => void)[] = [];
    const all = startInSlices([10, 20, 30], (item, index) => {
      started.push(index);
      return new Promise<number>((resolve) => finishers.push(() => resolve(item + index)));
    });
    // None has finished, yet all three have started.
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    for (const finish of finishers.reverse()) finish();
    expect(await all).toEqual([10, 21, 32]);
  });

  it('keeps at most maxStarted unfinished, starting the next as one finishes', async () => {
    const started: number[] = [];
    const finishers = new Map<number, () => void>();
    const all = startInSlices(
      [0, 1, 2, 3, 4],
      (item) => {
        started.push(item);
        return new Promise<number>((resolve, reject) =>
          finishers.set(item, () => (item === 3 ? reject(new Error('refused')) : resolve(item * 10))),
        );
      },
      2,
    );
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    await turn();
    expect(started).toEqual([0, 1]);
    finishers.get(1)?.();
    await turn();
    expect(started).toEqual([0, 1, 2]);
    finishers.get(0)?.();
    finishers.get(2)?.();
    await turn();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    // A refused item settles its slot too, and the whole rejects as it does.
    finishers.get(3)?.();
    finishers.get(4)?.();
    await expect(all).rejects.toThrow('refused');
  });
});
