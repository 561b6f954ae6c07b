import { createHash, timingSafeEqual } from 'node:crypto';
import { TotError } from '../geo/errors.ts';

/** A registered phone: which doctor it reports for, and the SHA-256 of its token. */
export interface DeviceEntry {
  deviceId: string;
  doctorId: string;
  /** SHA-256 of the device token, 64 hex digits (engine/config.ts computes it from DEVICE_TOKENS). */
  tokenSha256: string;
}

/** An authenticated device, as handlers see it. */
export interface Device {
  deviceId: string;
  doctorId: string;
  /**
   * The signed-in doctor user when the phone socket was opened with an access token instead of a device token
   * (api/gateway/doctor-user-auth.ts); the device id is then `user:<userId>`.
   */
  userId?: string;
}

/**
 * The phones allowed to send fixes, each bound to one doctor, authenticated by a per-device token (the API-core issue
 * brings full auth). Only SHA-256 digests of tokens are held. A digest is compared with `timingSafeEqual`, so the time
 * taken says nothing about how much of a guess was right; an unknown device id costs the same comparison as a known
 * one, so timing does not reveal which ids exist either.
 */
export class DeviceRegistry {
  private readonly byId = new Map<string, { doctorId: string; digest: Buffer }>();
  private readonly byDigest = new Map<string, Device>();
  // Compared against when the device id is unknown, to keep the work the same.
  private readonly decoy = createHash('sha256').update('decoy').digest();

  /**
   * @throws TotError `CONFIG_INVALID` when a digest is not 64 hex digits, a device id repeats, or two devices share a
   * token (a bearer token alone must identify its device).
   */
  constructor(entries: readonly DeviceEntry[]) {
    for (const entry of entries) {
      if (!/^[0-9a-fA-F]{64}$/.test(entry.tokenSha256)) {
        throw new TotError('CONFIG_INVALID', `device ${entry.deviceId}: tokenSha256 must be 64 hex digits`, {
          field: 'tokenSha256',
        });
      }
      const hex = entry.tokenSha256.toLowerCase();
      if (this.byId.has(entry.deviceId)) {
        throw new TotError('CONFIG_INVALID', `device ${entry.deviceId} is registered twice`, {
          field: 'deviceId',
        });
      }
      if (this.byDigest.has(hex)) {
        throw new TotError(
          'CONFIG_INVALID',
          `device ${entry.deviceId}: token is already used by another device`,
          { field: 'token' },
        );
      }
      this.byId.set(entry.deviceId, { doctorId: entry.doctorId, digest: Buffer.from(hex, 'hex') });
      this.byDigest.set(hex, { deviceId: entry.deviceId, doctorId: entry.doctorId });
    }
  }

  /** Number of registered devices. */
  get size(): number {
    return this.byId.size;
  }

  /**
   * The device a bearer token belongs to. The lookup is by the token's SHA-256: a guess must match a whole digest,
   * and the time a map lookup takes on digests tells nothing useful about the token.
   *
   * @throws TotError `API_UNAUTHORIZED` when the token is missing or belongs to no device.
   */
  authenticateToken(token: string | undefined): Device {
    if (token === undefined || token === '')
      throw unauthorized('a device token is required (Authorization: Bearer <token> or ?token=)');
    const device = this.byDigest.get(sha256(token).toString('hex'));
    if (!device) throw unauthorized('the device token is not valid');
    return { ...device };
  }

  /**
   * The device `deviceId` if `token` is its token (OsmAnd and Traccar clients name their device and carry the token
   * as a parameter). The digests are compared in constant time.
   *
   * @throws TotError `API_UNAUTHORIZED` when the token is missing, the device is unknown or the token is not its
   * token; the message does not say which, so that the answer does not reveal which device ids exist.
   */
  authenticateDevice(deviceId: string, token: string | undefined): Device {
    const entry = this.byId.get(deviceId);
    const presented = sha256(token ?? '');
    const matches = timingSafeEqual(presented, entry?.digest ?? this.decoy);
    if (token === undefined || token === '') {
      throw unauthorized(
        `a device token is required for device ${JSON.stringify(deviceId)} (parameter token)`,
      );
    }
    if (!entry || !matches)
      throw unauthorized(`device ${JSON.stringify(deviceId)} and token do not match a registered device`);
    return { deviceId, doctorId: entry.doctorId };
  }
}

/** The token of an `Authorization: Bearer <token>` header, or the `token` query parameter; the header wins. */
export function tokenOf(
  headers: Readonly<Record<string, string>>,
  query: URLSearchParams,
): string | undefined {
  const authorization = headers['authorization'];
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match ? match[1] : undefined;
  }
  return query.get('token') ?? undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function unauthorized(message: string): TotError<'API_UNAUTHORIZED'> {
  return new TotError('API_UNAUTHORIZED', message, { field: 'token' });
}
