import { TotError } from '../../geo/errors.ts';
import type { Principal } from '../auth/tokens.ts';
import type { Device } from '../devices.ts';

/** What authenticating a doctor user on the phone socket needs. */
export interface DoctorUserAuthentication {
  /** Verifies a user's access token (api/auth/tokens.ts `AccessTokens`). */
  tokens: { verify(token: string): Promise<Principal> };
  /** The doctor profile linked to a user (engine/doctor-profiles.ts). */
  doctorIdOfUser: (userId: string) => Promise<string | undefined>;
}

/**
 * The phone socket's device for a doctor user's access token, so that a signed-in browser page can stand in for the
 * phone: it reports for, and answers the offers of, the doctor profile linked to the user. The device id is
 * `user:<userId>`, which no registered device can have (DEVICE_TOKENS ids are the operator's, and a colon ends an
 * entry's id there).
 *
 * @throws TotError `API_TOKEN_INVALID` / `API_TOKEN_EXPIRED` (401) for a bad token; `API_FORBIDDEN` (403) for a user
 *   who is not a doctor or has no linked profile.
 */
export async function deviceOfAccessToken(
  authentication: DoctorUserAuthentication,
  token: string,
): Promise<Device> {
  const principal = await authentication.tokens.verify(token);
  if (principal.role !== 'doctor') {
    throw new TotError(
      'API_FORBIDDEN',
      `role ${principal.role} may not open the phone socket (needs doctor)`,
      {
        field: 'access_token',
      },
    );
  }
  const doctorId = await authentication.doctorIdOfUser(principal.userId);
  if (doctorId === undefined) {
    throw new TotError(
      'API_FORBIDDEN',
      `user ${JSON.stringify(principal.userId)} has no doctor profile: ask an admin to link one`,
      { field: 'access_token' },
    );
  }
  return { deviceId: `user:${principal.userId}`, doctorId, userId: principal.userId };
}
