import { Packr } from 'msgpackr';
import { TotError } from '../../geo/errors.ts';
import { tokenOf, type Device } from '../devices.ts';
import { errorFrameOf, type ErrorFrame } from '../errors.ts';
import type { SocketConnection, SocketRoute } from '../sockets.ts';
import { batchOfFrame, type Batch, type BatchId, type Rejection } from './fix-intake.ts';
import type { PhoneGateway } from './phone-gateway.ts';
import { deviceOfAccessToken, type DoctorUserAuthentication } from './doctor-user-auth.ts';
import { isOfferAnswer, type OfferAckFrame, type OfferAnswers } from './offer-answers.ts';
import type { ChannelFrame, PhoneOfferChannel } from './offer-channel.ts';

/** Limits of the phone socket; the values are documented in docs/API.md. */
export interface PhoneSocketLimits {
  /** Largest frame; a larger one closes the connection (uWS, code 1009). Default 512 KiB (1000 verbose JSON fixes). */
  maxPayloadLength: number;
  /** Seconds of silence before the socket is closed; uWS pings before that. Default 60. */
  idleTimeoutSeconds: number;
  /** Frames of one connection waiting for the bus; one more is answered API_RATE_LIMITED. Default 32. */
  maxFramesInFlight: number;
  /** Unread reply bytes queued for a phone beyond which the gateway closes the socket (1008). Default 64 KiB. */
  maxBufferedBytes: number;
}

/** The default {@link PhoneSocketLimits}. */
export const PHONE_SOCKET_LIMITS: PhoneSocketLimits = {
  maxPayloadLength: 512 * 1024,
  idleTimeoutSeconds: 60,
  maxFramesInFlight: 32,
  maxBufferedBytes: 64 * 1024,
};

/** The close code sent to a phone that does not read its acknowledgements (policy violation). */
export const CLOSE_NOT_READING = 1008;

/** The acknowledgement of one frame. */
export interface AckFrame {
  type: 'ack';
  /** Ordinal of the frame on this connection, from 1. */
  frame: number;
  batchId?: BatchId;
  accepted: number;
  rejected: Rejection[];
}

/** An error frame answering one frame; the socket stays open. */
export type FrameError = ErrorFrame & { frame: number; batchId?: BatchId; bookingId?: string };

/** A reply to one frame, sent in the frame's encoding (JSON text for text, msgpack binary for binary). */
export type Reply = { binary: boolean; frame: AckFrame | OfferAckFrame | FrameError };

/** A frame the server sends unasked (offers, assignments, their withdrawal), in the phone's encoding. */
export type Pushed = { binary: boolean; frame: ChannelFrame };

/** What connects the phone socket to dispatch: offers out, answers in. */
export interface PhoneSocketOffers {
  channel: PhoneOfferChannel;
  answers: OfferAnswers;
}

/** Optional parts of the phone socket; without them it carries fixes only, authenticated by device tokens. */
export interface PhoneSocketOptions {
  /** Offers to the socket's doctor and their `accept` / `decline` frames. */
  offers?: PhoneSocketOffers;
  /** Lets a doctor user's access token (`?access_token=`) open the socket, e.g. from a browser page. */
  doctorUsers?: DoctorUserAuthentication;
}

// Plain maps and arrays both ways: phones in any language read and write them.
const packr = new Packr({ useRecords: false });

/**
 * One phone's WebSocket, without the socket: it decodes frames, hands batches to the gateway, and turns the outcome
 * into an ack or error frame. A bad frame gets an error frame and the socket stays open; the connection is closed
 * only for abuse (a frame over the size limit, which uWS handles, or acknowledgements the phone does not read).
 */
export class PhoneSession {
  private frames = 0;
  private inFlight = 0;
  private connection: SocketConnection | undefined;
  /** Whether offers go out as msgpack: the encoding of the phone's last frame (or `?encoding=msgpack` before one). */
  private binaryOut: boolean;
  private detachOffers: (() => void) | undefined;

  constructor(
    readonly device: Device,
    private readonly gateway: PhoneGateway,
    private readonly limits: PhoneSocketLimits = PHONE_SOCKET_LIMITS,
    private readonly links: { offers?: PhoneSocketOffers; binaryOut?: boolean } = {},
  ) {
    this.binaryOut = links.binaryOut ?? false;
  }

  /**
   * Handles one frame: binary frames are msgpack, text frames JSON; either holds a fix, an array of fixes, or
   * `{type: 'fixes', batchId?, fixes: [...]}`. Resolves with the reply once the bus accepted the fixes (or with an
   * error frame); never rejects.
   */
  async receive(data: Uint8Array, isBinary: boolean): Promise<Reply> {
    const frame = ++this.frames;
    let batch: Batch | undefined;
    try {
      if (this.inFlight >= this.limits.maxFramesInFlight) {
        throw new TotError(
          'API_RATE_LIMITED',
          `${this.inFlight} frames wait for their acknowledgement (at most ${this.limits.maxFramesInFlight}); wait for acks before sending more`,
          { limit: this.limits.maxFramesInFlight },
        );
      }
      const value = decode(data, isBinary);
      this.binaryOut = isBinary;
      const offers = this.links.offers;
      if (offers && isOfferAnswer(value)) return await this.answer(offers.answers, frame, value, isBinary);
      batch = batchOfFrame(value);
      this.inFlight++;
      try {
        const ack = await this.gateway.submit(this.device, batch.candidates, 'ws');
        return {
          binary: isBinary,
          frame: {
            type: 'ack',
            frame,
            ...(batch.batchId === undefined ? {} : { batchId: batch.batchId }),
            ...ack,
          },
        };
      } finally {
        this.inFlight--;
      }
    } catch (error) {
      // submit counts its own refusals; the others (rate, decoding, shape) are counted here.
      if (!(error instanceof TotError && error.code === 'API_PUBLISH_FAILED'))
        this.gateway.countRefusal('ws', error);
      const batchId = batch?.batchId;
      return {
        binary: isBinary,
        frame: { ...errorFrameOf(error), frame, ...(batchId === undefined ? {} : { batchId }) },
      };
    }
  }

  /**
   * Answers an offer (`accept` / `decline`) for the socket's doctor; resolves with the ack or an error frame naming the
   * booking, never rejects.
   */
  private async answer(
    answers: OfferAnswers,
    frame: number,
    value: unknown,
    binary: boolean,
  ): Promise<Reply> {
    this.inFlight++;
    try {
      return { binary, frame: { type: 'ack', frame, ...(await answers.answer(this.device, value)) } };
    } catch (error) {
      this.gateway.countRefusal('ws', error);
      const bookingId = (value as { bookingId?: unknown }).bookingId;
      return {
        binary,
        frame: { ...errorFrameOf(error), frame, ...(typeof bookingId === 'string' ? { bookingId } : {}) },
      };
    } finally {
      this.inFlight--;
    }
  }

  /** Binds the session to its open socket; with offers, the socket starts receiving its doctor's offers. */
  attach(connection: SocketConnection): void {
    this.connection = connection;
    const offers = this.links.offers;
    if (offers) {
      this.detachOffers = offers.channel.attach(this.device.doctorId, { push: (frame) => this.push(frame) });
    }
  }

  /** Sends an offer, an assignment or a withdrawal in the phone's encoding, with the backpressure rule of {@link deliver}. */
  push(frame: ChannelFrame): boolean {
    return this.deliver({ binary: this.binaryOut, frame });
  }

  /** The socket closed: no more offers to it. */
  detach(): void {
    this.detachOffers?.();
    this.detachOffers = undefined;
  }

  /** Handles a frame and sends the reply on the attached socket. */
  onFrame(data: Uint8Array, isBinary: boolean): void {
    void this.receive(data, isBinary).then((reply) => this.deliver(reply));
  }

  /**
   * Sends a reply, watching backpressure: a phone that lets more than `maxBufferedBytes` of replies pile up unread is
   * closed (1008) rather than buffered without bound. Replies are never dropped silently instead: a missing ack would
   * only make the phone resend, while the close tells it to reconnect and resend what is unacknowledged (applying is
   * idempotent). Returns whether the reply was sent.
   */
  deliver(reply: Reply | Pushed): boolean {
    const connection = this.connection;
    if (!connection?.open) return false;
    if (connection.bufferedAmount() > this.limits.maxBufferedBytes) {
      this.gateway.metrics?.closedByServer.inc({ reason: 'backpressure' });
      connection.end(CLOSE_NOT_READING, 'acknowledgements are not being read');
      return false;
    }
    const sent = connection.send(reply.binary ? packr.pack(reply.frame) : JSON.stringify(reply.frame));
    if (!sent && connection.open) {
      this.gateway.metrics?.closedByServer.inc({ reason: 'backpressure' });
      connection.end(CLOSE_NOT_READING, 'acknowledgements are not being read');
    }
    return sent;
  }
}

/**
 * The phone WebSocket at `/v1/doctor`. The device authenticates at the upgrade with `Authorization: Bearer <token>` or
 * `?token=<token>` (browsers' and many phone libraries' WebSocket clients cannot set headers); a missing or wrong
 * token is answered 401 API_UNAUTHORIZED and no socket opens. With `options.doctorUsers`, `?access_token=<JWT>` of a
 * doctor user with a linked profile opens it too (401 API_TOKEN_*, 403 API_FORBIDDEN otherwise). With
 * `options.offers`, the socket receives its doctor's offers and takes `accept` / `decline` frames.
 */
export function phoneSocketRoute(
  gateway: PhoneGateway,
  limits: PhoneSocketLimits = PHONE_SOCKET_LIMITS,
  options: PhoneSocketOptions = {},
): SocketRoute<PhoneSession> {
  return {
    pattern: '/v1/doctor',
    maxPayloadLength: limits.maxPayloadLength,
    idleTimeoutSeconds: limits.idleTimeoutSeconds,
    // Above maxBufferedBytes, so that the session's own check (which closes with a reason) acts before uWS drops frames.
    maxBackpressure: limits.maxBufferedBytes * 4,
    accept: (request) => {
      const links = {
        ...(options.offers ? { offers: options.offers } : {}),
        binaryOut: request.query.get('encoding') === 'msgpack',
      };
      const accessToken = request.query.get('access_token');
      if (accessToken !== null && options.doctorUsers) {
        return deviceOfAccessToken(options.doctorUsers, accessToken).then(
          (device) => new PhoneSession(device, gateway, limits, links),
          (error: unknown) => {
            gateway.countRefusal('ws', error);
            throw error;
          },
        );
      }
      try {
        const device = gateway.devices.authenticateToken(tokenOf(request.headers, request.query));
        return new PhoneSession(device, gateway, limits, links);
      } catch (error) {
        gateway.countRefusal('ws', error);
        throw error;
      }
    },
    open: (session, connection) => {
      session.attach(connection);
      gateway.metrics?.connections.inc();
    },
    message: (session, data, isBinary) => session.onFrame(data, isBinary),
    close: (session) => {
      session.detach();
      gateway.metrics?.connections.dec();
    },
  };
}

/**
 * @throws TotError `API_MALFORMED_MSGPACK` or `API_MALFORMED_JSON` naming the frame.
 */
function decode(data: Uint8Array, isBinary: boolean): unknown {
  if (isBinary) {
    let value: unknown;
    try {
      value = packr.unpack(data);
    } catch (error) {
      throw new TotError(
        'API_MALFORMED_MSGPACK',
        `binary frame is not msgpack: ${(error as Error).message}`,
        { field: '(frame)' },
      );
    }
    // msgpackr turns the reserved byte 0xc1 and unknown extensions into class instances: not data a phone meant.
    if (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.getPrototypeOf(value) !== Object.prototype
    ) {
      throw new TotError(
        'API_MALFORMED_MSGPACK',
        'binary frame is not a msgpack map or array (reserved byte or extension type)',
        {
          field: '(frame)',
        },
      );
    }
    return value;
  }
  try {
    return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch (error) {
    throw new TotError('API_MALFORMED_JSON', `text frame is not JSON: ${(error as Error).message}`, {
      field: '(frame)',
    });
  }
}
