import { z } from 'zod';
import type { AuditQuery, StoredAuditEntry } from '../../engine/audit-log.ts';
import { isUuid } from '../../engine/users.ts';
import type { Guards } from '../auth/guards.ts';
import { validate } from '../errors.ts';
import type { Router } from '../router.ts';

/** What GET /v1/audit reads ({@link AuditLog} satisfies it). */
export interface AuditSource {
  flush(): Promise<number>;
  list(query: AuditQuery): Promise<StoredAuditEntry[]>;
}

const time = z
  .string()
  .trim()
  .transform((value, context) => {
    const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(ms)) {
      context.addIssue({ code: 'custom', message: 'must be ms since the epoch or an ISO 8601 time' });
      return z.NEVER;
    }
    return ms;
  });

/** Query of GET /v1/audit. */
export const auditQuerySchema = z.strictObject({
  userId: z.string().refine(isUuid, { error: 'must be a user id (UUID)' }).optional(),
  from: time.optional(),
  to: time.optional(),
  limit: z
    .string()
    .regex(/^\d+$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000))
    .default(100),
});

/** GET /v1/audit: the security audit log, newest first (admin only). */
export function addAuditRoutes(router: Router, options: { audit: AuditSource; guards: Guards }): void {
  router.get(
    '/v1/audit',
    options.guards.requireRole(['admin'], async (request) => {
      const query = validate(
        auditQuerySchema,
        Object.fromEntries([...new Set(request.query.keys())].map((key) => [key, request.query.get(key)])),
        'query',
      );
      // What is still buffered is written first, so an admin sees every request answered so far.
      await options.audit.flush().catch(() => 0);
      const entries = await options.audit.list({
        limit: query.limit,
        ...(query.userId === undefined ? {} : { userId: query.userId }),
        ...(query.from === undefined ? {} : { from: query.from }),
        ...(query.to === undefined ? {} : { to: query.to }),
      });
      return { status: 200, body: { entries, truncated: entries.length === query.limit } };
    }),
    {
      summary: 'The security audit log (admin)',
      tags: ['audit'],
      query: auditQuerySchema,
      response: { status: 200, description: 'entries, newest first' },
      auth: true,
    },
  );
}
