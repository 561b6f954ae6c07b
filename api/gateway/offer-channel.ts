import type { Offer, OfferChannel } from '../../dispatch/booking-types.ts';

/** The frame a phone receives for an offer: the offer itself (its `type` is `offer`). */
export type OfferFrame = Offer;

/**
 * The frame a phone receives when it was given a booking without an offer (an emergency taking the doctor, a
 * dispatcher's assignment): the offer's fields, `expiresAt` being the time of the assignment.
 */
export type AssignedFrame = Omit<Offer, 'type'> & { type: 'assigned' };

/** The frame a phone receives when an offer or an assignment no longer stands. */
export interface OfferWithdrawnFrame {
  type: 'offer_withdrawn';
  bookingId: string;
  reason: string;
}

/** Every frame the channel sends to a phone. */
export type ChannelFrame = OfferFrame | AssignedFrame | OfferWithdrawnFrame;

/** One open phone socket as the channel reaches it; it sends a frame in its own encoding. */
export interface OfferRecipient {
  /** Sends the frame; false when it could not be sent (socket closed, or closed now for not reading). */
  push(frame: ChannelFrame): boolean;
}

/**
 * The {@link OfferChannel} of the phone sockets: a registry of open sockets by doctor id (a doctor may have several —
 * the phone and a browser page standing in for it). An offer goes to every socket of the doctor; whichever answers
 * first decides, the dispatcher refusing the second answer. Sockets register on open and leave on close; the registry
 * holds nothing else, so a doctor without a socket simply is not reached (the offer stands until it lapses).
 */
export class PhoneOfferChannel implements OfferChannel {
  private readonly byDoctor = new Map<string, Set<OfferRecipient>>();
  private offersSent = 0;
  private offersUnreached = 0;

  /** Registers an open socket of `doctorId`; returns the function that removes it (idempotent). */
  attach(doctorId: string, recipient: OfferRecipient): () => void {
    let recipients = this.byDoctor.get(doctorId);
    if (!recipients) {
      recipients = new Set();
      this.byDoctor.set(doctorId, recipients);
    }
    recipients.add(recipient);
    return () => {
      const current = this.byDoctor.get(doctorId);
      if (!current?.delete(recipient)) return;
      if (current.size === 0) this.byDoctor.delete(doctorId);
    };
  }

  /** Sends `{type: 'offer', …offer}` on each of the doctor's sockets; true when at least one took it. */
  offer(doctorId: string, offer: Offer): boolean {
    const frame: OfferFrame = { ...offer, type: 'offer' };
    const reached = this.broadcast(doctorId, frame);
    if (reached) this.offersSent++;
    else this.offersUnreached++;
    return reached;
  }

  /**
   * Sends `{type: 'assigned', …assignment}` on each of the doctor's sockets: a booking given to them without an offer
   * (the dispatcher's optional `DoctorChannel.assigned`).
   */
  assigned(doctorId: string, assignment: Offer): void {
    this.broadcast(doctorId, { ...assignment, type: 'assigned' });
  }

  /** Sends `{type: 'offer_withdrawn', bookingId, reason}` on each of the doctor's sockets. */
  withdraw(doctorId: string, bookingId: string, reason: string): void {
    this.broadcast(doctorId, { type: 'offer_withdrawn', bookingId, reason });
  }

  /** Open sockets of `doctorId`. */
  socketsOf(doctorId: string): number {
    return this.byDoctor.get(doctorId)?.size ?? 0;
  }

  /** Offers that reached at least one socket, and offers that reached none, since start. */
  stats(): { offersSent: number; offersUnreached: number; doctorsConnected: number } {
    return {
      offersSent: this.offersSent,
      offersUnreached: this.offersUnreached,
      doctorsConnected: this.byDoctor.size,
    };
  }

  private broadcast(doctorId: string, frame: ChannelFrame): boolean {
    const recipients = this.byDoctor.get(doctorId);
    if (!recipients) return false;
    let reached = false;
    // A copy: a push may close its socket, which detaches it from the set being walked.
    for (const recipient of [...recipients]) reached = recipient.push(frame) || reached;
    return reached;
  }
}
