/**
 * One offer channel for a city where some doctors are simulated: an offer, an assignment or a withdrawal for a
 * simulated doctor goes to the simulated phones, anything else to the real channel (the phone sockets). The simulated
 * phones join once the simulation starts; until then, and for every doctor they do not know, the real channel serves.
 */
import type { Offer } from '../booking-types.ts';
import type { DoctorChannel } from '../dispatch-context.ts';

/** A channel that knows which doctors it serves. */
export interface SimulatedDoctorChannel extends DoctorChannel {
  has(doctorId: string): boolean;
}

/** Routes each doctor's offers to the simulated phones or to the real channel; see the module comment. */
export class RoutedOfferChannel implements DoctorChannel {
  private simulated: SimulatedDoctorChannel | undefined;

  constructor(private readonly real: DoctorChannel) {}

  /** From now on, the doctors `simulated` knows are served by it. */
  useSimulated(simulated: SimulatedDoctorChannel): void {
    this.simulated = simulated;
  }

  /** {@link DoctorChannel.offer} of the doctor's channel. */
  offer(doctorId: string, offer: Offer): boolean {
    return this.channelOf(doctorId).offer(doctorId, offer);
  }

  /** {@link DoctorChannel.withdraw} of the doctor's channel. */
  withdraw(doctorId: string, bookingId: string, reason: string): void {
    this.channelOf(doctorId).withdraw(doctorId, bookingId, reason);
  }

  /** {@link DoctorChannel.assigned} of the doctor's channel, when it has one. */
  assigned(doctorId: string, assignment: Offer): void {
    this.channelOf(doctorId).assigned?.(doctorId, assignment);
  }

  private channelOf(doctorId: string): DoctorChannel {
    return this.simulated?.has(doctorId) ? this.simulated : this.real;
  }
}
