import { z } from 'zod';
import { registrationSchema, ROLES, type UserStore } from '../../engine/users.ts';
import { TotError } from '../../geo/errors.ts';
import type { Guards } from '../auth/guards.ts';
import type { AccessTokens } from '../auth/tokens.ts';
import { validate } from '../errors.ts';
import type { Handler, Router, RouteMeta } from '../router.ts';

/** What the auth and user routes need of the user store ({@link UserStore} satisfies it). */
export type UserSource = Pick<
  UserStore,
  'register' | 'authenticate' | 'get' | 'setRole' | 'issueRefreshToken' | 'rotateRefreshToken' | 'logout'
>;

/** Body of POST /v1/auth/login. */
export const loginSchema = z.strictObject({
  email: z.string().max(254),
  password: z.string().max(1024),
});

/** Body of POST /v1/auth/refresh and /v1/auth/logout. */
export const refreshSchema = z.strictObject({ refreshToken: z.string().min(1).max(200) });

/** Body of PATCH /v1/users/:id/role. */
export const roleChangeSchema = z.strictObject({ role: z.enum(ROLES) });

const idParams = z.object({ id: z.string().min(1).max(64) });

/**
 * Registration, login, refresh-token rotation, logout, and the user resources. Registration makes a patient (a `role`
 * field is refused as an unknown field); only an admin changes roles. A user may read only themselves unless admin:
 * for anyone else GET /v1/users/:id answers 404 API_USER_NOT_FOUND, exactly as for an id that does not exist, so the
 * answer does not reveal which ids exist.
 */
export function addAuthRoutes(
  router: Router,
  options: {
    users: UserSource;
    tokens: AccessTokens;
    guards: Guards;
    /** The stricter budget of the sign-in routes, per client address (api/rate-limit.ts `authRateLimiter`). */
    limiter?: { consume(key: string): Promise<void> };
  },
): void {
  const { users, tokens, guards, limiter } = options;
  // Password guessing and account creation spend the stricter budget before any work is done.
  const limitedPost = (pattern: string, handler: Handler, meta: RouteMeta) =>
    router.post(
      pattern,
      async (request) => {
        await limiter?.consume(`ip:${request.remoteAddress}`);
        return handler(request);
      },
      meta,
    );

  const session = async (
    user: { id: string; role: (typeof ROLES)[number] },
    refresh: { token: string; expiresAt: number },
  ) => ({
    tokenType: 'Bearer',
    accessToken: await tokens.sign({ userId: user.id, role: user.role }),
    expiresIn: tokens.ttlSeconds,
    refreshToken: refresh.token,
    refreshExpiresAt: refresh.expiresAt,
  });

  limitedPost(
    '/v1/auth/register',
    async (request) => {
      const input = validate(registrationSchema, request.body, 'body');
      const user = await users.register(input);
      if (!user) {
        throw new TotError('API_EMAIL_TAKEN', `e-mail ${JSON.stringify(input.email)} is already registered`, {
          field: 'body.email',
        });
      }
      return { status: 201, body: user };
    },
    {
      summary: 'Register a patient account',
      tags: ['auth'],
      body: registrationSchema,
      response: { status: 201, description: 'the new user (role patient)' },
      auth: false,
    },
  );

  limitedPost(
    '/v1/auth/login',
    async (request) => {
      const { email, password } = validate(loginSchema, request.body, 'body');
      const user = await users.authenticate(email, password);
      if (!user) throw new TotError('API_INVALID_CREDENTIALS', 'wrong e-mail or password', {});
      const refresh = await users.issueRefreshToken(user.id);
      return { status: 200, body: { ...(await session(user, refresh)), user } };
    },
    {
      summary: 'Log in: an access token and a refresh token',
      tags: ['auth'],
      body: loginSchema,
      response: { status: 200, description: 'tokens and the user' },
      auth: false,
    },
  );

  limitedPost(
    '/v1/auth/refresh',
    async (request) => {
      const { refreshToken } = validate(refreshSchema, request.body, 'body');
      const result = await users.rotateRefreshToken(refreshToken);
      switch (result.kind) {
        case 'rotated':
          return {
            status: 200,
            body: { ...(await session(result.user, result.refresh)), user: result.user },
          };
        case 'reused':
          throw new TotError(
            'API_TOKEN_REUSED',
            'refresh token was already used: every token of this login is revoked, log in again',
            { field: 'body.refreshToken' },
          );
        case 'expired':
          throw new TotError('API_TOKEN_EXPIRED', 'refresh token has expired: log in again', {
            field: 'body.refreshToken',
          });
        default:
          throw new TotError('API_TOKEN_INVALID', 'refresh token is not valid', {
            field: 'body.refreshToken',
          });
      }
    },
    {
      summary: 'Exchange a refresh token for new tokens (rotation with reuse detection)',
      tags: ['auth'],
      body: refreshSchema,
      response: { status: 200, description: 'new tokens; the presented refresh token is spent' },
      auth: false,
    },
  );

  limitedPost(
    '/v1/auth/logout',
    async (request) => {
      const { refreshToken } = validate(refreshSchema, request.body, 'body');
      await users.logout(refreshToken);
      return { status: 204 };
    },
    {
      summary: 'Log out: revoke every refresh token of this login',
      tags: ['auth'],
      body: refreshSchema,
      response: { status: 204, description: 'revoked (also for an unknown token)' },
      auth: false,
    },
  );

  router.get(
    '/v1/users/me',
    guards.authenticated(async (request) => {
      const user = await users.get(request.principal.userId);
      if (!user) throw userNotFound(request.principal.userId);
      return { status: 200, body: user };
    }),
    {
      summary: 'The signed-in user',
      tags: ['users'],
      response: { status: 200, description: 'the user' },
      auth: true,
    },
  );

  router.get(
    '/v1/users/:id',
    guards.authenticated(async (request) => {
      const { id } = validate(idParams, request.params, 'path');
      const { principal } = request;
      // Someone else's id answers like a missing one: no way to probe which ids exist.
      if (principal.role !== 'admin' && principal.userId !== id) throw userNotFound(id);
      const user = await users.get(id);
      if (!user) throw userNotFound(id);
      return { status: 200, body: user };
    }),
    {
      summary: 'A user (oneself, or anyone for an admin)',
      tags: ['users'],
      params: idParams,
      response: { status: 200, description: 'the user' },
      auth: true,
    },
  );

  router.add(
    'PATCH',
    '/v1/users/:id/role',
    guards.requireRole(['admin'], async (request) => {
      const { id } = validate(idParams, request.params, 'path');
      const { role } = validate(roleChangeSchema, request.body, 'body');
      const user = await users.setRole(id, role);
      if (!user) throw userNotFound(id);
      return { status: 200, body: user };
    }),
    {
      summary: "Change a user's role (admin)",
      tags: ['users'],
      params: idParams,
      body: roleChangeSchema,
      response: { status: 200, description: 'the updated user' },
      auth: true,
    },
  );
}

function userNotFound(id: string): TotError {
  return new TotError('API_USER_NOT_FOUND', `no user ${JSON.stringify(id)}`, { field: 'id' });
}
