import { waitFor } from '../../support/wait.ts';
import { openSocket, type TestSocket } from '../../support/ws-client.ts';
import type { E2eApp } from './app.ts';

/** A doctor's phone for a test: a device of DEVICE_TOKENS, posting fixes and holding the phone socket. */
export interface TestPhone {
  doctorId: string;
  /** Posts one fix (now) through POST /v1/fixes; resolves once the gateway accepted it. */
  moveTo(lat: number, lng: number): Promise<void>;
  /** {@link TestPhone.moveTo}, then waits (15 s at most) until the fleet serves the doctor's position. */
  placeAt(lat: number, lng: number): Promise<void>;
  /** The next JSON frame on the phone socket that `matches`, waiting up to `timeoutMs` in all. */
  frame(
    matches: (frame: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  send(frame: unknown): void;
  close(): void;
}

/** `DEVICE_TOKENS` entry of a phone: `deviceId:doctorId:token`. */
export function deviceTokenEntry(deviceId: string, doctorId: string, token: string): string {
  return `${deviceId}:${doctorId}:${token}`;
}

/** Connects the phone of `doctorId` (its device token must be in the engine's DEVICE_TOKENS). */
export async function connectPhone(app: E2eApp, doctorId: string, token: string): Promise<TestPhone> {
  const socket: TestSocket = await openSocket(
    app.url(`/v1/doctor?token=${encodeURIComponent(token)}`).replace(/^http/, 'ws'),
  );
  const moveTo = async (lat: number, lng: number) => {
    const response = await fetch(app.url('/v1/fixes'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fixes: [{ lat, lng, ts: Date.now() }] }),
    });
    const body = (await response.json()) as { accepted?: number };
    if (response.status !== 202 || body.accepted !== 1) {
      throw new Error(`fix for ${doctorId} refused: ${response.status} ${JSON.stringify(body)}`);
    }
  };
  return {
    doctorId,
    moveTo,
    placeAt: async (lat, lng) => {
      await moveTo(lat, lng);
      await waitFor(
        async () =>
          (await app.api('GET', `/v1/doctors/${doctorId}/position`)).status === 200 ? true : undefined,
        { timeoutMs: 15_000, what: `${doctorId} in the fleet` },
      );
    },
    frame: async (matches, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching frame on ${doctorId}'s phone within ${timeoutMs} ms`);
        const received = await socket.next(left);
        if (received.binary) continue;
        const frame = JSON.parse(received.text) as Record<string, unknown>;
        if (matches(frame)) return frame;
      }
    },
    send: (frame) => socket.send(JSON.stringify(frame)),
    close: () => socket.close(),
  };
}
