/**
 * The simulated doctors, stored column-wise (one typed array per attribute) so that 100k of them step in a few
 * milliseconds without garbage: only the emitted fixes and events are allocated.
 *
 * Each doctor wanders while nobody needs them — parked a while, then driving along a jittered path to another place,
 * parked again — and goes off and on duty at random (exponential waiting times). Between discrete events (a fix is
 * due, a waypoint is reached, a phase ends, a duty change is due) a driving doctor moves in a straight line at the
 * local traffic speed, so a step of any length produces exactly the fixes that fall within it.
 *
 * The simulator invents no visits and no statuses: visits are the dispatcher's. While a visit (or an offer) holds a
 * doctor, whoever serves it takes the doctor over ({@link SimulatedDoctors.hold}) — the simulator then neither moves
 * them nor sends their fixes — and hands them back where the visit left them ({@link SimulatedDoctors.release}).
 */
import type { City } from './city.ts';
import type { SimulatorConfig } from './config.ts';
import { nextIn, streamSeed } from './random.ts';
import type { SimHandedDoctor, SimStep } from './types.ts';

const OFF = 0;
const PARKED = 1;
const DRIVING = 2;
/** Taken over by the dispatch side (an offer or a visit); see the module comment. */
const HELD = 3;

/** Stream family of the doctors' per-entity random streams (see random.ts). */
const DOCTOR_STREAMS = 10;
/** Stream family of the doctors' phones. */
const PHONE_STREAMS = 12;
/** Keeps simulated positions off the box's edge so GPS noise cannot push them out. */
const EDGE_MARGIN_M = 50;
const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
/** Phone battery drain with GPS on, and recharge while off duty, percent per ms. */
const BATTERY_DRAIN = 6 / MS_PER_HOUR;
const BATTERY_CHARGE = 30 / MS_PER_HOUR;
const BATTERY_FLOOR = 5;

/** Starting place and working state of a doctor, drawn at construction. */
export interface DoctorStart {
  x: number;
  y: number;
  onDuty: boolean;
}

/** Column-wise state of every doctor; see the module comment. */
export class SimulatedDoctors {
  /** Number of doctors. */
  readonly count: number;
  /** Doctor ids by index. */
  readonly ids: readonly string[];
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  /** Current waypoint. */
  private readonly tx: Float64Array;
  private readonly ty: Float64Array;
  /** Destination of the current trip. */
  private readonly destX: Float64Array;
  private readonly destY: Float64Array;
  /** Intermediate waypoints still to come before the destination. */
  private readonly legsLeft: Uint8Array;
  private readonly phase: Uint8Array;
  /** Whether a held doctor was off duty when taken (they go back off duty when released). */
  private readonly heldOff: Uint8Array;
  private readonly phaseEndsAt: Float64Array;
  private readonly dutyAt: Float64Array;
  private readonly pendingOff: Uint8Array;
  private readonly nextFixAt: Float64Array;
  private readonly lastFixAt: Float64Array;
  private readonly seq: Float64Array;
  /** Current ground speed, m/s. */
  private readonly speed: Float64Array;
  private readonly heading: Float64Array;
  private readonly battery: Float64Array;
  private readonly batteryAt: Float64Array;
  /** Per-trip driving style: multiplies the traffic speed. */
  private readonly tripFactor: Float64Array;
  /** Behaviour (drives, parking, duty). */
  private readonly rng: Uint32Array;
  /** The phone (fix times, accuracy, noise), apart from behaviour so that fix times never depend on the driving. */
  private readonly phoneRng: Uint32Array;
  private readonly offRatePerMs: number;
  private readonly onRatePerMs: number;

  constructor(
    private readonly config: SimulatorConfig,
    private readonly city: City,
    ids: readonly string[],
    starts: readonly DoctorStart[],
  ) {
    const n = ids.length;
    this.count = n;
    this.ids = ids;
    this.x = new Float64Array(n);
    this.y = new Float64Array(n);
    this.tx = new Float64Array(n);
    this.ty = new Float64Array(n);
    this.destX = new Float64Array(n);
    this.destY = new Float64Array(n);
    this.legsLeft = new Uint8Array(n);
    this.phase = new Uint8Array(n);
    this.heldOff = new Uint8Array(n);
    this.phaseEndsAt = new Float64Array(n);
    this.dutyAt = new Float64Array(n);
    this.pendingOff = new Uint8Array(n);
    this.nextFixAt = new Float64Array(n);
    this.lastFixAt = new Float64Array(n).fill(-Infinity);
    this.seq = new Float64Array(n);
    this.speed = new Float64Array(n);
    this.heading = new Float64Array(n);
    this.battery = new Float64Array(n);
    this.batteryAt = new Float64Array(n);
    this.tripFactor = new Float64Array(n).fill(1);
    this.rng = new Uint32Array(n);
    this.phoneRng = new Uint32Array(n);

    // Chosen so that the long-run on-duty share is onDutyShare: λ_on · (1 − s) = λ_off · s.
    const share = config.onDutyShare;
    const offRate = share >= 1 ? 0 : -Math.log(1 - config.offDutyPerHour) / MS_PER_HOUR;
    this.offRatePerMs = offRate;
    this.onRatePerMs = share <= 0 ? 0 : share >= 1 ? Infinity : (offRate * share) / (1 - share);

    // Times are relative to 0 until start() learns the first `now`.
    for (let i = 0; i < n; i += 1) {
      const start = starts[i] as DoctorStart;
      this.rng[i] = streamSeed(config.seed, DOCTOR_STREAMS, i);
      this.phoneRng[i] = streamSeed(config.seed, PHONE_STREAMS, i);
      this.x[i] = city.clampX(start.x, EDGE_MARGIN_M);
      this.y[i] = city.clampY(start.y, EDGE_MARGIN_M);
      this.heading[i] = Math.floor(this.random(i) * 360);
      this.battery[i] = 40 + Math.round(this.random(i) * 60);
      if (!start.onDuty) {
        this.phase[i] = OFF;
        this.dutyAt[i] = this.exponential(i, this.onRatePerMs);
        continue;
      }
      this.dutyAt[i] = this.exponential(i, this.offRatePerMs);
      this.nextFixAt[i] = Math.floor(nextIn(this.phoneRng, i) * config.fixIntervalMs[1]);
      if (this.random(i) < 0.65) {
        this.phase[i] = PARKED;
        this.phaseEndsAt[i] = Math.round(this.random(i) * this.minutes(i, config.idleMinutes));
      } else {
        this.phase[i] = DRIVING;
        this.planTrip(i);
      }
    }
  }

  /** Shifts every relative time by the first `now`; called once before the first step. */
  start(t0: number): void {
    for (let i = 0; i < this.count; i += 1) {
      this.phaseEndsAt[i] = (this.phaseEndsAt[i] as number) + t0;
      this.dutyAt[i] = Math.round((this.dutyAt[i] as number) + t0);
      this.nextFixAt[i] = (this.nextFixAt[i] as number) + t0;
      this.batteryAt[i] = t0;
    }
  }

  /** Whether doctor `i` is on duty (a held doctor counts as on duty unless taken while off). */
  onDuty(i: number): boolean {
    return this.phase[i] !== OFF && !(this.phase[i] === HELD && this.heldOff[i] === 1);
  }

  /** Whether doctor `i` is held (see {@link hold}). */
  held(i: number): boolean {
    return this.phase[i] === HELD;
  }

  /**
   * Takes doctor `i` over at time `t`: from now on the simulator neither moves the doctor nor sends their fixes, until
   * {@link release}. Returns the true position and the last fix sent. Holding a held doctor changes nothing.
   */
  hold(i: number, t: number): SimHandedDoctor {
    if (this.phase[i] !== HELD) {
      // A drive stops where the doctor is now (the step ended at `t`, so the position is that of `t`).
      this.heldOff[i] = this.phase[i] === OFF ? 1 : 0;
      this.phase[i] = HELD;
      this.speed[i] = 0;
      // Off duty, the battery charges from the time the doctor left (goOnDuty settles it); on duty it drains.
      if (this.heldOff[i] === 0) this.chargeBattery(i, t, -BATTERY_DRAIN);
    }
    return this.handed(i);
  }

  /**
   * Hands doctor `i` back at time `t`, at `lat`/`lng`, after the fix `lastFixAt`/`seq` that whoever held the doctor
   * sent last: the simulator's next fix follows it. The doctor parks there a while; a duty change that fell due while
   * held happens at once. Releasing a doctor that is not held changes nothing.
   */
  release(i: number, t: number, handed: SimHandedDoctor): void {
    if (this.phase[i] !== HELD) return;
    this.x[i] = this.city.clampX(this.city.xOf(handed.lng), EDGE_MARGIN_M);
    this.y[i] = this.city.clampY(this.city.yOf(handed.lat), EDGE_MARGIN_M);
    if (handed.seq > (this.seq[i] as number)) this.seq[i] = handed.seq;
    const lastFixAt = Math.max(this.lastFixAt[i] as number, handed.lastFixAt);
    this.lastFixAt[i] = lastFixAt;
    if (this.heldOff[i] === 1) {
      this.phase[i] = OFF;
      return;
    }
    this.chargeBattery(i, t, -BATTERY_DRAIN);
    this.phase[i] = PARKED;
    this.phaseEndsAt[i] = Math.round(t + this.minutes(i, this.config.idleMinutes));
    // A shift that ended while held ends now (time never goes back to when it was due).
    if (this.pendingOff[i] === 1 || (this.dutyAt[i] as number) < t) {
      this.pendingOff[i] = 0;
      this.dutyAt[i] = Math.round(t);
    }
    // `+ 1`: the simulator's fix must be newer than the last one sent for the doctor, by ts alone.
    this.nextFixAt[i] = Math.max(Math.round(t), Math.floor(lastFixAt) + 1);
  }

  private handed(i: number): SimHandedDoctor {
    return {
      lat: this.lat(i),
      lng: this.lng(i),
      lastFixAt: this.lastFixAt[i] as number,
      seq: this.seq[i] as number,
    };
  }

  /** Latitude of doctor `i`'s true position. */
  lat(i: number): number {
    return this.city.latOf(this.y[i] as number);
  }

  /** Longitude of doctor `i`'s true position. */
  lng(i: number): number {
    return this.city.lngOf(this.x[i] as number);
  }

  /** Runs every doctor from `from` to `to` (simulated ms), appending what happened to `out`. */
  advance(from: number, to: number, out: SimStep): void {
    for (let i = 0; i < this.count; i += 1) this.advanceOne(i, from, to, out);
  }

  private advanceOne(i: number, from: number, to: number, out: SimStep): void {
    let t = from;
    for (;;) {
      const phase = this.phase[i] as number;
      if (phase === HELD) return;
      if (phase === OFF) {
        const at = this.dutyAt[i] as number;
        if (at > to) return;
        t = at;
        this.goOnDuty(i, t, out);
        continue;
      }

      let next = Math.min(this.nextFixAt[i] as number, this.dutyAt[i] as number);
      if (phase !== DRIVING) next = Math.min(next, this.phaseEndsAt[i] as number);
      let arrival = Infinity;
      let speed = 0;
      let distance = 0;
      if (phase === DRIVING) {
        // The speed is set at events only, never at step boundaries, so the path does not depend on the step length.
        if (this.speed[i] === 0) this.updateSpeed(i, t);
        speed = this.speed[i] as number;
        distance = Math.hypot(
          (this.tx[i] as number) - (this.x[i] as number),
          (this.ty[i] as number) - (this.y[i] as number),
        );
        arrival = t + (distance / speed) * 1000;
        next = Math.min(next, arrival);
      }
      if (next > to) {
        if (phase === DRIVING) this.move(i, ((to - t) * speed) / 1000, distance);
        return;
      }

      if (phase === DRIVING) {
        if (next === arrival) {
          this.x[i] = this.tx[i] as number;
          this.y[i] = this.ty[i] as number;
        } else {
          this.move(i, ((next - t) * speed) / 1000, distance);
        }
      }
      t = next;

      if (phase === DRIVING && t === arrival) this.reachWaypoint(i, t);
      if ((this.nextFixAt[i] as number) <= t) this.emitFix(i, out);
      const current = this.phase[i] as number;
      if (current === PARKED && (this.phaseEndsAt[i] as number) <= t) this.endPhase(i);
      if ((this.dutyAt[i] as number) <= t && this.phase[i] !== OFF) {
        if (this.phase[i] === PARKED) {
          this.goOffDuty(i, t, out);
        } else {
          // Nobody abandons a drive: leave once parked.
          this.pendingOff[i] = 1;
          this.dutyAt[i] = Infinity;
        }
      }
      if (this.phase[i] === DRIVING) this.updateSpeed(i, t);
    }
  }

  /** Speed of doctor `i` at its position and time `t`, m/s: the local traffic speed times the trip's style. */
  private updateSpeed(i: number, t: number): void {
    const city = this.city;
    const kmh = city.speedKmh(this.x[i] as number, this.y[i] as number, city.conditionsAt(t));
    this.speed[i] = (kmh * (this.tripFactor[i] as number)) / 3.6;
  }

  private move(i: number, meters: number, distance: number): void {
    if (distance <= 0 || meters <= 0) return;
    const share = Math.min(1, meters / distance);
    this.x[i] = (this.x[i] as number) + ((this.tx[i] as number) - (this.x[i] as number)) * share;
    this.y[i] = (this.y[i] as number) + ((this.ty[i] as number) - (this.y[i] as number)) * share;
  }

  private reachWaypoint(i: number, t: number): void {
    if ((this.destX[i] as number) !== this.x[i] || (this.destY[i] as number) !== this.y[i]) {
      this.nextWaypoint(i);
      return;
    }
    this.speed[i] = 0;
    this.phase[i] = PARKED;
    this.phaseEndsAt[i] = Math.round(t + this.minutes(i, this.config.idleMinutes));
    if (this.pendingOff[i] === 1) {
      // Arrivals fall between milliseconds; the departure waits for the next one, so its record carries integer ms.
      this.pendingOff[i] = 0;
      this.dutyAt[i] = Math.ceil(t);
    }
  }

  private endPhase(i: number): void {
    this.planTrip(i);
    this.phase[i] = DRIVING;
  }

  private goOnDuty(i: number, t: number, out: SimStep): void {
    const id = this.ids[i] as string;
    this.chargeBattery(i, t, BATTERY_CHARGE);
    this.phase[i] = PARKED;
    out.duty.push({ doctorId: id, onDuty: true, ts: t });
    this.phaseEndsAt[i] = Math.round(t + this.minutes(i, this.config.idleMinutes));
    this.dutyAt[i] = Math.round(t + this.exponential(i, this.offRatePerMs));
    // The phone reports as soon as the doctor starts; `+ 1` keeps ts strictly increasing across a zero-length break.
    this.nextFixAt[i] = Math.max(t, (this.lastFixAt[i] as number) + 1);
  }

  private goOffDuty(i: number, t: number, out: SimStep): void {
    this.chargeBattery(i, t, -BATTERY_DRAIN);
    this.phase[i] = OFF;
    this.pendingOff[i] = 0;
    this.speed[i] = 0;
    this.dutyAt[i] = Math.round(t + this.exponential(i, this.onRatePerMs));
    out.duty.push({ doctorId: this.ids[i] as string, onDuty: false, ts: t });
  }

  private emitFix(i: number, out: SimStep): void {
    const ts = this.nextFixAt[i] as number;
    this.chargeBattery(i, ts, -BATTERY_DRAIN);
    const phone = this.phoneRng;
    const accuracy = Math.round((3 + 17 * nextIn(phone, i)) * 10) / 10;
    // Triangular noise within ±accuracy: cheaper than a Gaussian and just as plausible on a map.
    const noiseX = (nextIn(phone, i) + nextIn(phone, i) - 1) * accuracy;
    const noiseY = (nextIn(phone, i) + nextIn(phone, i) - 1) * accuracy;
    const moving = this.phase[i] === DRIVING;
    const seq = (this.seq[i] as number) + 1;
    this.seq[i] = seq;
    out.fixes.push({
      doctorId: this.ids[i] as string,
      lat: this.city.latOf((this.y[i] as number) + noiseY),
      lng: this.city.lngOf((this.x[i] as number) + noiseX),
      ts,
      accuracy,
      speed: moving ? Math.round((this.speed[i] as number) * 100) / 100 : 0,
      heading: this.heading[i] as number,
      battery: Math.round(this.battery[i] as number),
      seq,
    });
    this.lastFixAt[i] = ts;
    const [min, max] = this.config.fixIntervalMs;
    this.nextFixAt[i] = ts + min + Math.floor(nextIn(phone, i) * (max - min + 1));
  }

  /** Brings the battery to time `t` at `ratePerMs` (negative drains), within [BATTERY_FLOOR, 100]. */
  private chargeBattery(i: number, t: number, ratePerMs: number): void {
    const level = (this.battery[i] as number) + (t - (this.batteryAt[i] as number)) * ratePerMs;
    this.battery[i] = Math.min(100, Math.max(BATTERY_FLOOR, level));
    this.batteryAt[i] = t;
  }

  /** Picks the next destination within tripKm of the current position and sets out on a path of 2–4 legs. */
  private planTrip(i: number): void {
    const [minKm, maxKm] = this.config.tripKm;
    // Log-uniform: short hops are common, cross-town trips rare.
    const meters = 1000 * minKm * Math.pow(maxKm / minKm, this.random(i));
    const angle = this.random(i) * 2 * Math.PI;
    this.destX[i] = this.city.clampX((this.x[i] as number) + meters * Math.sin(angle), EDGE_MARGIN_M);
    this.destY[i] = this.city.clampY((this.y[i] as number) + meters * Math.cos(angle), EDGE_MARGIN_M);
    this.legsLeft[i] = 1 + Math.floor(this.random(i) * 3);
    this.tripFactor[i] = 0.85 + 0.3 * this.random(i);
    this.nextWaypoint(i);
  }

  /**
   * The next waypoint: an equal share of the remaining way, pushed sideways by up to a quarter of that share, so the
   * path zigzags like a drive along streets instead of flying straight.
   */
  private nextWaypoint(i: number): void {
    const x = this.x[i] as number;
    const y = this.y[i] as number;
    let tx = this.destX[i] as number;
    let ty = this.destY[i] as number;
    const legs = this.legsLeft[i] as number;
    if (legs > 0) {
      const share = 1 / (legs + 1);
      const vx = (tx - x) * share;
      const vy = (ty - y) * share;
      const sideways = (this.random(i) * 2 - 1) * 0.25;
      tx = this.city.clampX(x + vx - vy * sideways, EDGE_MARGIN_M);
      ty = this.city.clampY(y + vy + vx * sideways, EDGE_MARGIN_M);
      this.legsLeft[i] = legs - 1;
    }
    this.tx[i] = tx;
    this.ty[i] = ty;
    if (tx !== x || ty !== y) {
      const degrees = (Math.atan2(tx - x, ty - y) * 180) / Math.PI;
      this.heading[i] = (Math.round((degrees < 0 ? degrees + 360 : degrees) * 10) / 10) % 360;
    }
  }

  private minutes(i: number, [min, max]: readonly [number, number]): number {
    return (min + (max - min) * this.random(i)) * MS_PER_MINUTE;
  }

  private exponential(i: number, ratePerMs: number): number {
    if (ratePerMs === 0) return Infinity;
    if (ratePerMs === Infinity) return 0;
    return -Math.log(1 - this.random(i)) / ratePerMs;
  }

  private random(i: number): number {
    return nextIn(this.rng, i);
  }
}
