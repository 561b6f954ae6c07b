import { z } from 'zod';
import type { Actor, BookingStatus, DispatchService } from '../../dispatch/booking-types.ts';
import type { Device } from '../devices.ts';
import { validate } from '../errors.ts';

/** A phone's answer to an offer: `{type: "accept", bookingId}` or `{type: "decline", bookingId, reason?}`. */
export const offerAnswerSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('accept'), bookingId: z.string().trim().min(1).max(64) }),
  z.strictObject({
    type: z.literal('decline'),
    bookingId: z.string().trim().min(1).max(64),
    reason: z.string().trim().min(1).max(500).optional(),
  }),
]);

/** The acknowledgement of an answer: what the dispatcher made of it. */
export interface OfferAckFrame {
  type: 'ack';
  /** Ordinal of the frame on this connection, from 1. */
  frame: number;
  action: 'accept' | 'decline';
  bookingId: string;
  /** The booking's status after the answer (`assigned` or further on accept, `searching` on decline). */
  status: BookingStatus;
}

/** Whether a decoded frame is an answer to an offer rather than fixes (its `type` says so). */
export function isOfferAnswer(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'accept' || type === 'decline';
}

/**
 * The actor the dispatcher records for an answer from a phone socket: the signed-in doctor user, or — for a socket
 * authenticated by a device token, which names no user — the device as `device:<deviceId>`.
 */
export function actorOfDevice(device: Device): Actor {
  return { id: device.userId ?? `device:${device.deviceId}`, role: 'doctor' };
}

/**
 * Answers offers for the doctor a phone socket authenticated: the socket's doctor, never one named in the frame. The
 * dispatcher decides whether the offer is theirs and still open.
 */
export class OfferAnswers {
  /** `dispatch` is a getter: the dispatcher starts after the store, and throws a coded error until it serves. */
  constructor(private readonly dispatch: () => DispatchService) {}

  /**
   * Validates and applies one answer from `device`.
   *
   * @throws TotError `API_VALIDATION_FAILED` naming the field (`frame.bookingId`, `frame.reason`, an unknown field);
   *   the dispatcher's codes (`DISPATCH_OFFER_NOT_OPEN` for an offer not theirs or lapsed,
   *   `DISPATCH_BOOKING_NOT_FOUND`, …). Nothing changes on a throw.
   */
  async answer(device: Device, value: unknown): Promise<Omit<OfferAckFrame, 'type' | 'frame'>> {
    const answer = validate(offerAnswerSchema, value, 'frame');
    const dispatch = this.dispatch();
    const actor = actorOfDevice(device);
    const booking =
      answer.type === 'accept'
        ? await dispatch.accept(answer.bookingId, device.doctorId, actor)
        : await dispatch.decline(answer.bookingId, device.doctorId, actor, answer.reason);
    return { action: answer.type, bookingId: booking.id, status: booking.status };
  }
}
