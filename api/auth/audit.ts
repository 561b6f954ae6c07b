import type { AuditEntry } from '../../engine/audit-log.ts';
import type { Method } from '../router.ts';
import { bearerOf } from './tokens.ts';
import type { VerifiedTokens } from './verified-tokens.ts';

/** A finished HTTP request, as the server reports it to {@link auditRecorder}. */
export interface FinishedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  remoteAddress: string;
  /** Path parameters of the matched route (empty when none matched). */
  params: Record<string, string>;
  status: number;
  /** The error code of a failed request. */
  code?: string;
  /** The response body (used only to name what a POST created). */
  body?: unknown;
}

const STATE_CHANGING = new Set<Method | string>(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Turns finished requests into audit entries: every POST, PUT, PATCH and DELETE, successful or not, with who made it
 * (the bearer token's user and role when it verifies; null otherwise — the entry is still written), the target (the
 * route's `:id`, or the `id` of what a 201 created), status and address. Entries go to `append` (a buffered
 * {@link AuditLog}): recording never delays the response. The principal comes from `tokens`, which must be the
 * server's own cache of verified tokens (the one its `authenticate` checks every request's bearer with): the token
 * of a request the server authenticated is found there, not verified a second time, and routes need not report their
 * principal. The parameter's type is the cache class, so that the raw `AccessTokens` cannot be passed instead.
 */
export function auditRecorder(
  tokens: VerifiedTokens,
  append: (entry: AuditEntry) => void,
  clock: () => number = Date.now,
): (finished: FinishedRequest) => Promise<void> {
  return async (finished) => {
    if (!STATE_CHANGING.has(finished.method)) return;
    const at = clock();
    let principal: { userId: string; role: string } | undefined;
    const token = bearerOf(finished.headers);
    if (token) principal = await tokens.verify(token).catch(() => undefined);
    const created =
      finished.status === 201 && typeof finished.body === 'object' && finished.body !== null
        ? (finished.body as Record<string, unknown>)['id']
        : undefined;
    const target = finished.params['id'] ?? (typeof created === 'string' ? created : null);
    append({
      at,
      userId: principal?.userId ?? null,
      role: principal?.role ?? null,
      method: finished.method,
      path: finished.path,
      target,
      status: finished.status,
      ip: finished.remoteAddress || null,
      ...(finished.code ? { detail: { code: finished.code } } : {}),
    });
  };
}
