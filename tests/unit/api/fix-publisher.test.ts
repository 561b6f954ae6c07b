import { afterEach, describe, expect, it } from 'vitest';
import { FixPublisher } from '../../../api/gateway/fix-publisher.ts';
import type { BusRecord, OutgoingMessage } from '../../../engine/bus.ts';
import { InProcessBus } from '../../../engine/in-process-bus.ts';
import { decode, encode, NOW } from '../../support/gateway-fixture.ts';
import { waitFor } from '../../support/wait.ts';

const fix = (doctorId: string, seq: number) => ({ doctorId, lat: 55.75, lng: 37.61, ts: NOW + seq, seq });

/**
 * An in-process bus whose publish calls are recorded and can be held back, to see what the publisher sends and that
 * it waits for the bus's answer.
 */
class RecordingBus extends InProcessBus {
  readonly calls: OutgoingMessage[][] = [];
  gate: Promise<void> = Promise.resolve();
  failNext: Error | undefined;

  override async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    this.calls.push([...messages]);
    await this.gate;
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) throw failure;
    return super.publish(topic, messages);
  }
}

const opened: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of opened.splice(0)) await close();
});

async function setup(options: Partial<ConstructorParameters<typeof FixPublisher>[0]> = {}) {
  const bus = new RecordingBus();
  const records: BusRecord[] = [];
  const subscription = await bus.subscribe(['tot.fixes'], (batch) => void records.push(...batch), {
    group: 'test',
  });
  const publisher = new FixPublisher({ bus, topic: 'tot.fixes', encode, lingerMs: 0, ...options });
  opened.push(async () => {
    await publisher.close();
    await subscription.close();
    await bus.close();
  });
  return { bus, records, publisher };
}

const keysAndSeqs = (messages: readonly { key: string; value: Uint8Array }[]) =>
  messages.map((message) => [message.key, (decode(message.value) as { seq: number }[]).map((f) => f.seq)]);

describe('FixPublisher', () => {
  it('sends what arrives within the linger as one bus request, one message per doctor, in arrival order', async () => {
    const { bus, records, publisher } = await setup({ lingerMs: 30 });
    const acks = [
      publisher.publish([fix('doc-1', 1), fix('doc-2', 1)]),
      publisher.publish([fix('doc-1', 2)]),
      publisher.publish([fix('doc-3', 1), fix('doc-1', 3)]),
    ];
    // Nothing leaves before the linger ends, even after the loop turned.
    await new Promise((resolve) => setImmediate(resolve));
    expect(bus.calls).toHaveLength(0);
    await Promise.all(acks);
    expect(bus.calls).toHaveLength(1);
    expect(keysAndSeqs(bus.calls[0]!)).toEqual([
      ['doc-1', [1, 2, 3]],
      ['doc-2', [1]],
      ['doc-3', [1]],
    ]);
    await waitFor(() => (records.length === 3 ? true : undefined), { what: 'three records consumed' });
    expect(records.every((record) => record.topic === 'tot.fixes')).toBe(true);
    expect(publisher.stats()).toEqual({ flushes: 1, messages: 3, fixes: 5, failedFlushes: 0 });
  });

  it('resolves only once the bus accepted the flush', async () => {
    const { bus, publisher } = await setup();
    let open!: () => void;
    bus.gate = new Promise((resolve) => (open = resolve));
    let acknowledged = false;
    const ack = publisher.publish([fix('doc-1', 1)]).then(() => (acknowledged = true));
    await waitFor(() => (bus.calls.length === 1 ? true : undefined), { what: 'the flush reached the bus' });
    // Let every pending callback run: the ack must still be held back by the bus.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(acknowledged).toBe(false);
    open();
    await ack;
    expect(acknowledged).toBe(true);
  });

  it('rejects every batch of a flush the bus refused, and publishes the next flush normally', async () => {
    const { bus, records, publisher } = await setup();
    bus.failNext = new Error('broker unreachable');
    const first = publisher.publish([fix('doc-1', 1)]);
    const second = publisher.publish([fix('doc-2', 1)]);
    await expect(first).rejects.toThrow('broker unreachable');
    await expect(second).rejects.toThrow('broker unreachable');
    await publisher.publish([fix('doc-1', 2)]);
    await waitFor(() => (records.length === 1 ? true : undefined), { what: 'the later flush consumed' });
    expect(publisher.stats().failedFlushes).toBe(1);
  });

  it('flushes at once when maxPendingFixes are waiting, without waiting for the linger', async () => {
    const { bus, publisher } = await setup({ lingerMs: 60_000, maxPendingFixes: 3 });
    const early = publisher.publish([fix('doc-1', 1), fix('doc-1', 2)]);
    expect(bus.calls).toHaveLength(0);
    await Promise.all([early, publisher.publish([fix('doc-2', 1)])]);
    expect(bus.calls).toHaveLength(1);
  });

  it('splits a long backlog of one doctor into messages of maxFixesPerMessage, in order', async () => {
    const { bus, publisher } = await setup({ maxFixesPerMessage: 2 });
    await publisher.publish([1, 2, 3, 4, 5].map((seq) => fix('doc-1', seq)));
    expect(keysAndSeqs(bus.calls[0]!)).toEqual([
      ['doc-1', [1, 2]],
      ['doc-1', [3, 4]],
      ['doc-1', [5]],
    ]);
  });

  it('sends what lingers when closed, then refuses new fixes', async () => {
    const { bus, publisher } = await setup({ lingerMs: 60_000 });
    const pending = publisher.publish([fix('doc-1', 1)]);
    await publisher.close();
    await pending;
    expect(bus.calls).toHaveLength(1);
    await expect(publisher.publish([fix('doc-1', 2)])).rejects.toThrow(/closed/);
  });

  it('names a bad option', () => {
    const bus = new InProcessBus();
    expect(() => new FixPublisher({ bus, topic: 't', encode, lingerMs: -1 })).toThrow(
      /options.lingerMs must be an integer ≥ 0, got -1/,
    );
    expect(() => new FixPublisher({ bus, topic: 't', encode, maxFixesPerMessage: 0 })).toThrow(
      /maxFixesPerMessage/,
    );
  });
});
