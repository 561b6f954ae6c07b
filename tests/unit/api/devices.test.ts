import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DeviceRegistry, tokenOf } from '../../../api/devices.ts';
import { loadConfig } from '../../../engine/config.ts';
import { TotError } from '../../../geo/errors.ts';
import { testDevices, TOKENS } from '../../support/gateway-fixture.ts';

function thrown(run: () => unknown): TotError {
  try {
    run();
  } catch (error) {
    if (error instanceof TotError) return error;
    throw error;
  }
  throw new Error('expected a TotError');
}

describe('DeviceRegistry', () => {
  it('finds the device of a bearer token and of a device id with its token', () => {
    const devices = testDevices();
    expect(devices.authenticateToken(TOKENS['phone-2'])).toEqual({ deviceId: 'phone-2', doctorId: 'doc-2' });
    expect(devices.authenticateDevice('phone-1', TOKENS['phone-1'])).toEqual({
      deviceId: 'phone-1',
      doctorId: 'doc-1',
    });
  });

  it.each([
    ['no token', () => testDevices().authenticateToken(undefined), /token is required/],
    ['an empty token', () => testDevices().authenticateToken(''), /token is required/],
    ['an unknown token', () => testDevices().authenticateToken('not-a-registered-token'), /not valid/],
    [
      'another device’s token',
      () => testDevices().authenticateDevice('phone-1', TOKENS['phone-2']),
      /do not match/,
    ],
    [
      'an unknown device',
      () => testDevices().authenticateDevice('phone-9', TOKENS['phone-1']),
      /do not match/,
    ],
    [
      'a device without token',
      () => testDevices().authenticateDevice('phone-1', undefined),
      /token is required/,
    ],
  ])('refuses %s with API_UNAUTHORIZED naming the token field', (_, run, message) => {
    const error = thrown(run);
    expect(error.code).toBe('API_UNAUTHORIZED');
    expect(error.details['field']).toBe('token');
    expect(error.message).toMatch(message);
  });

  it('says the same for an unknown device and a wrong token, so ids cannot be probed', () => {
    const unknown = thrown(() => testDevices().authenticateDevice('phone-9', 'x'.repeat(20)));
    const wrong = thrown(() => testDevices().authenticateDevice('phone-1', 'x'.repeat(20)));
    expect(unknown.message.replace('phone-9', 'ID')).toBe(wrong.message.replace('phone-1', 'ID'));
  });

  it('refuses a registry where two devices share a token or an id repeats', () => {
    const digest = (token: string) => createHash('sha256').update(token).digest('hex');
    const shared = digest('shared-token-123456');
    expect(
      () =>
        new DeviceRegistry([
          { deviceId: 'a', doctorId: 'd1', tokenSha256: shared },
          { deviceId: 'b', doctorId: 'd2', tokenSha256: shared },
        ]),
    ).toThrow(/already used/);
    expect(
      () =>
        new DeviceRegistry([
          { deviceId: 'a', doctorId: 'd1', tokenSha256: digest('first-token-123456') },
          { deviceId: 'a', doctorId: 'd2', tokenSha256: digest('second-token-123456') },
        ]),
    ).toThrow(/twice/);
  });
});

describe('tokenOf', () => {
  it('takes the bearer token of the Authorization header, else the token query parameter', () => {
    expect(tokenOf({ authorization: 'Bearer abc' }, new URLSearchParams('token=xyz'))).toBe('abc');
    expect(tokenOf({}, new URLSearchParams('token=xyz'))).toBe('xyz');
    expect(tokenOf({ authorization: 'Basic abc' }, new URLSearchParams('token=xyz'))).toBeUndefined();
    expect(tokenOf({}, new URLSearchParams())).toBeUndefined();
  });
});

describe('DEVICE_TOKENS', () => {
  it('reads deviceId:doctorId:token entries and keeps only the SHA-256 of each token', () => {
    const token = 'a-long-enough-token-1';
    const digest = createHash('sha256').update('other-device-token-2').digest('hex');
    const config = loadConfig({
      DEVICE_TOKENS: ` phone-1:doc-1:${token} , phone-2:doc 2:sha256:${digest.toUpperCase()}`,
    });
    expect(config.DEVICE_TOKENS).toEqual([
      {
        deviceId: 'phone-1',
        doctorId: 'doc-1',
        tokenSha256: createHash('sha256').update(token).digest('hex'),
      },
      { deviceId: 'phone-2', doctorId: 'doc 2', tokenSha256: digest },
    ]);
    expect(JSON.stringify(config)).not.toContain(token);
    expect(loadConfig({}).DEVICE_TOKENS).toEqual([]);
  });

  it.each([
    ['phone-1:doc-1', /entry 1: must be deviceId:doctorId:token/],
    ['phone-1:doc-1:short', /entry 1 \(device phone-1\): token must be at least 16 characters/],
    ['phone 1:doc-1:a-long-enough-token-1', /entry 1: device id must be/],
    ['phone-1::a-long-enough-token-1', /doctor id must be 1–64 characters/],
    ['p:d1:a-long-enough-token-1,p:d2:another-long-token-22', /entry 2: device p is listed twice/],
    ['p:d1:a-long-enough-token-1,q:d2:a-long-enough-token-1', /entry 2 \(device q\): token is already used/],
  ])('refuses %s, naming the entry and never showing a token', (value, message) => {
    const error = thrown(() => loadConfig({ DEVICE_TOKENS: value }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('a-long-enough-token-1');
    expect(error.message).not.toContain('short');
  });
});
