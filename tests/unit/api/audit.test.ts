import { afterEach, describe, expect, it, vi } from 'vitest';
import { auditRecorder, type FinishedRequest } from '../../../api/auth/audit.ts';
import { bearerPrincipal } from '../../../api/auth/guards.ts';
import { AccessTokens } from '../../../api/auth/tokens.ts';
import { VerifiedTokens } from '../../../api/auth/verified-tokens.ts';
import type { AuditEntry } from '../../../engine/audit-log.ts';

const SECRET = 'audit-suite-secret-0123456789abcdef';
const ALICE = { userId: 'user-alice', role: 'patient' } as const;

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Access tokens, the server's cache of verified tokens over them, and an audit recorder on that cache. Every HS256
 * check of any `AccessTokens`, by whatever path, is counted.
 */
function setUp() {
  const tokens = new AccessTokens({ secret: SECRET, ttlSeconds: 600 });
  const checks = vi.spyOn(AccessTokens.prototype, 'verify');
  const verified = new VerifiedTokens(tokens);
  const entries: AuditEntry[] = [];
  const record = auditRecorder(
    verified,
    (entry) => entries.push(entry),
    () => 1,
  );
  return { tokens, verified, entries, record, verifications: () => checks.mock.calls.length };
}

function finished(overrides: Partial<FinishedRequest> = {}): FinishedRequest {
  return {
    method: 'POST',
    path: '/v1/bookings',
    headers: {},
    remoteAddress: '127.0.0.1',
    params: {},
    status: 201,
    body: { id: 'booking-1' },
    ...overrides,
  };
}

describe('auditRecorder', () => {
  it('takes the principal of a request the server authenticated from its cache, without verifying again', async () => {
    // Regression: the audit verified every bearer token itself, a second HS256 check per state-changing request.
    const { tokens, verified, entries, record, verifications } = setUp();
    const headers = { authorization: `Bearer ${await tokens.sign(ALICE)}` };
    expect(await bearerPrincipal(verified)(headers)).toEqual(ALICE);
    expect(verifications()).toBe(1);

    await record(finished({ headers }));
    await record(
      finished({ headers, method: 'DELETE', path: '/v1/bookings/booking-1', params: { id: 'b-1' } }),
    );
    expect(verifications()).toBe(1);
    expect(entries).toEqual([
      expect.objectContaining({
        userId: ALICE.userId,
        role: ALICE.role,
        method: 'POST',
        target: 'booking-1',
      }),
      expect.objectContaining({ userId: ALICE.userId, role: ALICE.role, method: 'DELETE', target: 'b-1' }),
    ]);
  });

  it('writes the entry with no user for a missing or refused token, and skips reads', async () => {
    const { tokens, entries, record } = setUp();
    const forged = `${await tokens.sign(ALICE)}x`;
    await record(finished({ status: 401, code: 'API_UNAUTHENTICATED', body: undefined }));
    await record(finished({ headers: { authorization: `Bearer ${forged}` }, status: 401, body: undefined }));
    await record(finished({ method: 'GET', headers: { authorization: `Bearer ${forged}` }, status: 200 }));
    expect(entries).toEqual([
      expect.objectContaining({
        userId: null,
        role: null,
        status: 401,
        detail: { code: 'API_UNAUTHENTICATED' },
      }),
      expect.objectContaining({ userId: null, role: null, status: 401, target: null }),
    ]);
  });
});
