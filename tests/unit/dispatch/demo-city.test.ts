/**
 * The running engine's demo city (dispatch/simulation/demo-city.ts) against a real dispatcher on an in-memory store:
 * simulated patients book, the simulated phones answer, drive and complete, and the city simulator gives its doctors
 * over while a visit holds them — its fixes and the phones' follow each other without going back. Time is driven by
 * the test, one simulated second per step.
 */
import { describe, expect, it } from 'vitest';
import { InThreadAssignmentSolver } from '../../../dispatch/assignment.ts';
import type { Offer } from '../../../dispatch/booking-types.ts';
import type { DoctorChannel } from '../../../dispatch/dispatch-context.ts';
import { Dispatcher } from '../../../dispatch/dispatcher.ts';
import { MemoryBookingStore } from '../../../dispatch/memory-booking-store.ts';
import { DemoCity } from '../../../dispatch/simulation/demo-city.ts';
import { RoutedOfferChannel } from '../../../dispatch/simulation/routed-channel.ts';
import { TOPICS } from '../../../engine/bus.ts';
import { Fleet } from '../../../engine/fleet.ts';
import { InProcessBus } from '../../../engine/in-process-bus.ts';
import { CitySimulator } from '../../../engine/simulator/index.ts';
import { TrafficField } from '../../../geo/traffic-field.ts';

/** 07:00 UTC, 10:00 in Moscow. */
const START = Date.UTC(2026, 2, 2, 7, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Records what reaches the real phones' channel. */
class SocketChannel implements DoctorChannel {
  readonly offers: string[] = [];
  readonly withdrawals: string[] = [];
  offer(doctorId: string, _offer: Offer): boolean {
    this.offers.push(doctorId);
    return true;
  }
  withdraw(doctorId: string): void {
    this.withdrawals.push(doctorId);
  }
}

async function runCity(minutes: number, bookingsPerHour: number) {
  const city = new CitySimulator({ doctors: 60, detectors: 0, seed: 5, onDutyShare: 1 });
  const fleet = new Fleet({ offlineAfterMs: 60_000 });
  const live = { fleet, traffic: new TrafficField() };
  const channel = new RoutedOfferChannel(new SocketChannel());
  let now = START;
  const bus = new InProcessBus();
  const dispatcher = new Dispatcher({
    store: new MemoryBookingStore(),
    engine: live,
    solver: new InThreadAssignmentSolver(),
    channel,
    bus,
    topics: TOPICS,
    clock: () => now,
  });
  await dispatcher.restore();
  const demo = new DemoCity({ city, traffic: () => live.traffic, bookingsPerHour });
  demo.connect(dispatcher);
  channel.useSimulated(demo.phones);
  for (const doctor of city.doctors()) {
    fleet.register({ id: doctor.doctorId, specializations: doctor.specializations }, now);
  }
  /** Every fix by doctor, in the order the fleet received them, with where it came from. */
  const fixes = new Map<string, { ts: number; seq: number; from: 'simulator' | 'phone' }[]>();
  const record = (fix: { doctorId: string; ts: number; seq: number }, from: 'simulator' | 'phone') => {
    const list = fixes.get(fix.doctorId) ?? [];
    list.push({ ts: fix.ts, seq: fix.seq, from });
    fixes.set(fix.doctorId, list);
  };
  const rejected: string[] = [];
  for (let t = START; t <= START + minutes * MINUTE; t += SECOND) {
    now = t;
    const step = city.step(t);
    const phoneFixes = await demo.step(t);
    for (const fix of [...step.fixes, ...phoneFixes]) {
      const outcome = fleet.applyFix(fix, t);
      if (outcome !== 'applied') rejected.push(`${fix.doctorId}@${fix.ts}: ${String(outcome)}`);
    }
    for (const fix of step.fixes) record(fix, 'simulator');
    for (const fix of phoneFixes) record(fix, 'phone');
    await dispatcher.tick(t);
  }
  const bookings = await dispatcher.list({ limit: 500 });
  await dispatcher.stop();
  await bus.close();
  return { demo, fixes, rejected, bookings, city };
}

describe('DemoCity', () => {
  it('books through the dispatcher; the phones accept, drive, arrive and complete visits', async () => {
    const { demo, bookings } = await runCity(90, 60);
    expect(demo.counters.bookings).toBeGreaterThan(40);
    expect(demo.counters.failures).toBe(0);
    expect(bookings).toHaveLength(demo.counters.bookings);
    const statuses = bookings.map((booking) => booking.status);
    expect(statuses.filter((status) => status === 'completed').length).toBeGreaterThan(10);
    expect(demo.phones.counters.accepted).toBeGreaterThan(30);
    expect(demo.phones.counters.fixes).toBeGreaterThan(1000);
    for (const booking of bookings.filter((item) => item.status === 'completed')) {
      expect(booking.doctorId).toMatch(/^doc-\d{6}$/);
      expect(booking.arrivedAt!).toBeGreaterThan(booking.enRouteAt!);
    }
  }, 60_000);

  it('hands doctors between the simulator and the phones without a fix going back', async () => {
    const { fixes, rejected, city, demo } = await runCity(60, 60);
    expect(rejected).toEqual([]);
    let handovers = 0;
    for (const list of fixes.values()) {
      for (let i = 1; i < list.length; i++) {
        const previous = list[i - 1]!;
        const fix = list[i]!;
        expect(fix.seq).toBe(previous.seq + 1);
        expect(fix.ts).toBeGreaterThanOrEqual(previous.ts);
        if (fix.from !== previous.from) handovers++;
      }
    }
    expect(handovers).toBeGreaterThan(20);
    // Whoever the phones still hold, the simulator holds back from, and no one else.
    const held = city.doctors().filter((doctor) => doctor.held).length;
    expect(held).toBeGreaterThan(0);
    expect(held).toBe(demo.phones.heldCount());
  }, 60_000);
});

describe('DemoCity after a restart', () => {
  it('takes up the visits the dispatcher restored for simulated doctors, so that they end', async () => {
    const store = new MemoryBookingStore();
    const fleet = new Fleet({ offlineAfterMs: 60_000 });
    const live = { fleet, traffic: new TrafficField() };
    const bus = new InProcessBus();
    let now = START;
    const start = async (bookingsPerHour: number) => {
      const city = new CitySimulator({ doctors: 60, detectors: 0, seed: 5, onDutyShare: 1 });
      const channel = new RoutedOfferChannel(new SocketChannel());
      const dispatcher = new Dispatcher({
        store,
        engine: live,
        solver: new InThreadAssignmentSolver(),
        channel,
        bus,
        topics: TOPICS,
        clock: () => now,
      });
      await dispatcher.restore();
      const demo = new DemoCity({ city, traffic: () => live.traffic, bookingsPerHour });
      demo.connect(dispatcher);
      channel.useSimulated(demo.phones);
      return { city, dispatcher, demo };
    };
    const drive = async (parts: Awaited<ReturnType<typeof start>>, minutes: number) => {
      const end = now + minutes * MINUTE;
      for (; now <= end; now += SECOND) {
        const step = parts.city.step(now);
        for (const fix of [...step.fixes, ...(await parts.demo.step(now))]) fleet.applyFix(fix, now);
        await parts.dispatcher.tick(now);
      }
    };

    const before = await start(120);
    for (const doctor of before.city.doctors()) fleet.register({ id: doctor.doctorId }, now);
    await drive(before, 40);
    await before.dispatcher.stop();
    const visiting = new Set(['assigned', 'en_route', 'arrived', 'in_progress']);
    const held = before.dispatcher.active().filter((booking) => visiting.has(booking.status));
    expect(held.length).toBeGreaterThan(3);

    // A new process: the same store and fleet, a new simulator and new phones that know nothing of these visits.
    const after = await start(0);
    expect(after.demo.resume(after.dispatcher.active(), now)).toBe(held.length);
    await drive(after, 90);
    await after.dispatcher.stop();
    await bus.close();
    for (const booking of held) expect((await store.get(booking.id)).status).toBe('completed');
    expect(after.city.doctors().filter((doctor) => doctor.held)).toEqual([]);
  }, 60_000);
});

describe('RoutedOfferChannel', () => {
  const offer = (bookingId: string): Offer => ({ type: 'offer', bookingId }) as Offer;

  it("sends a simulated doctor's offers, assignments and withdrawals to the phones, anyone else's to the sockets", () => {
    const sockets = new SocketChannel();
    const phones = new SocketChannel();
    const channel = new RoutedOfferChannel(sockets);
    expect(channel.offer('doc-000001', offer('b0'))).toBe(true);
    expect(sockets.offers).toEqual(['doc-000001']);

    const simulatedIds = new Set(['doc-000001']);
    const assigned: string[] = [];
    channel.useSimulated({
      has: (doctorId) => simulatedIds.has(doctorId),
      offer: (doctorId, sent) => phones.offer(doctorId, sent),
      withdraw: (doctorId) => phones.withdraw(doctorId),
      assigned: (doctorId) => assigned.push(doctorId),
    });
    channel.offer('doc-000001', offer('b1'));
    channel.offer('real-doctor', offer('b2'));
    channel.withdraw('doc-000001', 'b1', 'lapsed');
    channel.withdraw('real-doctor', 'b2', 'lapsed');
    channel.assigned('doc-000001', offer('b3'));
    // The sockets' channel has no `assigned`: nothing reaches it, nothing throws.
    channel.assigned('real-doctor', offer('b4'));
    expect(phones.offers).toEqual(['doc-000001']);
    expect(phones.withdrawals).toEqual(['doc-000001']);
    expect(assigned).toEqual(['doc-000001']);
    expect(sockets.offers).toEqual(['doc-000001', 'real-doctor']);
    expect(sockets.withdrawals).toEqual(['real-doctor']);
  });
});
