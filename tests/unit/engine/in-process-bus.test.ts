import { afterEach, describe, expect, it } from 'vitest';
import type { BusRecord, PartitionLag } from '../../../engine/bus.ts';
import { InProcessBus, partitionOf } from '../../../engine/in-process-bus.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('InProcessBus', () => {
  const buses: InProcessBus[] = [];
  const open = (options?: ConstructorParameters<typeof InProcessBus>[0]) => {
    const bus = new InProcessBus(options);
    buses.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  it('keeps the last `retention` records of a topic for late subscribers, whether anyone read it or not', async () => {
    // Trimmed in steps of more than 1 024 records: 3 000 published with a retention of 1 000 leave the last 1 000.
    const bus = open({ partitions: 1, retention: 1_000 });
    const reader: BusRecord[] = [];
    await bus.subscribe(['read'], (records) => void reader.push(...records), { group: 'early' });
    for (let round = 0; round < 3; round++) {
      const messages = Array.from({ length: 1_000 }, (_, i) => ({
        key: `k${i}`,
        value: encoder.encode(String(round * 1_000 + i)),
      }));
      await bus.publish('read', messages);
      await bus.publish('unread', messages);
      await waitFor(() => reader.length === (round + 1) * 1_000);
    }
    for (const topic of ['read', 'unread']) {
      const late: BusRecord[] = [];
      await bus.subscribe([topic], (records) => void late.push(...records), { group: `late-${topic}` });
      await waitFor(() => late.length >= 1_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(late.map((record) => record.offset)).toEqual(Array.from({ length: 1_000 }, (_, i) => 2_000 + i));
    }
  });

  it('delivers each key in order on a stable partition, with consecutive offsets', async () => {
    const bus = open({ partitions: 3 });
    const seen: BusRecord[] = [];
    await bus.subscribe(['t'], (records) => void seen.push(...records), { group: 'g' });
    const messages = Array.from({ length: 300 }, (_, i) => ({
      key: `k${i % 7}`,
      value: encoder.encode(String(i)),
    }));
    await bus.publish('t', messages);
    await waitFor(() => seen.length === 300);
    for (let key = 0; key < 7; key++) {
      const values = seen.filter((r) => r.key === `k${key}`).map((r) => Number(decoder.decode(r.value)));
      expect(values).toEqual([...values].sort((a, b) => a - b));
      expect(new Set(seen.filter((r) => r.key === `k${key}`).map((r) => r.partition))).toEqual(
        new Set([partitionOf(`k${key}`, 3)]),
      );
    }
    for (let partition = 0; partition < 3; partition++) {
      const offsets = seen.filter((r) => r.partition === partition).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
  });

  it('waits for a batch handler before delivering the next batch of the partition', async () => {
    const bus = open({ partitions: 1, maxBatch: 10 });
    let running = 0;
    let maxRunning = 0;
    let count = 0;
    await bus.subscribe(
      ['t'],
      async (records) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        count += records.length;
        running--;
      },
      { group: 'g' },
    );
    await bus.publish(
      't',
      Array.from({ length: 50 }, (_, i) => ({ key: 'a', value: encoder.encode(String(i)) })),
    );
    await waitFor(() => count === 50);
    expect(maxRunning).toBe(1);
  });

  it('resumes a group from its commit, and from explicit positions', async () => {
    const bus = open({ partitions: 1 });
    await bus.publish(
      't',
      Array.from({ length: 10 }, (_, i) => ({ key: 'a', value: encoder.encode(String(i)) })),
    );
    const first: number[] = [];
    const subscription = await bus.subscribe(
      ['t'],
      (records) => void first.push(...records.map((r) => r.offset)),
      {
        group: 'g',
      },
    );
    await waitFor(() => first.length === 10);
    await subscription.commit({ t: { 0: 6 } });
    await subscription.close();

    const resumed: number[] = [];
    const again = await bus.subscribe(
      ['t'],
      (records) => void resumed.push(...records.map((r) => r.offset)),
      {
        group: 'g',
      },
    );
    await waitFor(() => resumed.length === 4);
    expect(resumed).toEqual([6, 7, 8, 9]);
    await again.close();

    const explicit: number[] = [];
    await bus.subscribe(['t'], (records) => void explicit.push(...records.map((r) => r.offset)), {
      group: 'g',
      from: { t: { 0: 8 } },
    });
    await waitFor(() => explicit.length === 2);
    expect(explicit).toEqual([8, 9]);
  });

  it('reports the exact lag of every partition: records appended but not yet delivered', async () => {
    const bus = open({ partitions: 2, lagIntervalMs: 5 });
    let latest: readonly PartitionLag[] = [];
    let reports = 0;
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const subscription = await bus.subscribe(['t'], () => released, {
      group: 'g',
      onLag: (lags) => {
        latest = lags;
        reports++;
      },
    });
    const key = 'doctor-1';
    const partition = partitionOf(key, 2);
    await bus.publish(
      't',
      Array.from({ length: 5 }, () => ({ key, value: new Uint8Array() })),
    );
    const lagOf = (p: number) => latest.find((entry) => entry.partition === p)?.lag;
    // The batch the handler is blocked in is not delivered yet: all five records count.
    await waitFor(() => lagOf(partition) === 5);
    expect(lagOf(1 - partition)).toBe(0);
    release();
    await waitFor(() => lagOf(partition) === 0);
    await subscription.close();
    const after = reports;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(reports).toBe(after);
  });

  it('is down after close and refuses to publish', async () => {
    const bus = open();
    expect(bus.state()).toBe('ready');
    await bus.close();
    expect(bus.state()).toBe('down');
    await expect(bus.publish('t', [{ key: 'a', value: new Uint8Array() }])).rejects.toThrow(/closed/);
  });
});
