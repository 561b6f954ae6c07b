import type { Role } from '../../engine/users.ts';
import { TotError } from '../../geo/errors.ts';
import type { ApiRequest, ApiResponse, Handler } from '../router.ts';
import { bearerOf, type Principal } from './tokens.ts';
import type { TokenVerifier } from './verified-tokens.ts';

/** A request whose access token has been verified. */
export interface AuthenticatedRequest extends ApiRequest {
  principal: Principal;
}

/** A handler that runs only for a verified principal. */
export type AuthenticatedHandler = (request: AuthenticatedRequest) => ApiResponse | Promise<ApiResponse>;

/** The guards routes wrap their handlers in; built once from the access-token verifier. */
export interface Guards {
  /** Runs `handler` for any valid access token. Throws 401 (API_UNAUTHENTICATED, API_TOKEN_*) otherwise. */
  authenticated(handler: AuthenticatedHandler): Handler;
  /** Runs `handler` when the token's role is one of `roles`; 403 API_FORBIDDEN for another role, 401 as above. */
  requireRole(roles: readonly Role[], handler: AuthenticatedHandler): Handler;
}

/**
 * The principal of a request's bearer token.
 *
 * @throws TotError `API_UNAUTHENTICATED` without a bearer token, `API_TOKEN_EXPIRED` / `API_TOKEN_INVALID` for a bad
 *   one.
 */
export async function principalOf(
  tokens: TokenVerifier,
  request: Pick<ApiRequest, 'headers'>,
): Promise<Principal> {
  const token = bearerOf(request.headers);
  if (!token) {
    throw new TotError(
      'API_UNAUTHENTICATED',
      'this route needs an Authorization: Bearer <access token> header',
      {
        field: 'authorization',
      },
    );
  }
  return tokens.verify(token);
}

/**
 * The principal of a request's bearer token, or undefined when there is no token or it does not verify; never throws.
 * The server calls it once per request (api/server.ts `authenticate`), for the per-user rate limit and to hand the
 * principal to the guards; a route that needs credentials still answers a missing or bad token with its exact 401.
 */
export function bearerPrincipal(
  tokens: TokenVerifier,
): (headers: Record<string, string>) => Promise<Principal | undefined> {
  return async (headers) => {
    const token = bearerOf(headers);
    if (!token) return undefined;
    return tokens.verify(token).catch(() => undefined);
  };
}

/**
 * Guards over `tokens`. A request that already carries a `principal` (the server verified its token) is not verified
 * again; any other is verified here, so handlers behave the same behind another adapter or called directly in tests.
 */
export function createGuards(tokens: TokenVerifier): Guards {
  const authenticated = (handler: AuthenticatedHandler): Handler => {
    return async (request) => {
      const principal = request.principal ?? (await principalOf(tokens, request));
      // The field before the spread (which may hold it undefined), then set: a literal that starts with a spread and
      // then gains a key costs V8 ~0.4 KB more (api/server.ts).
      const withPrincipal = { principal, ...request };
      withPrincipal.principal = principal;
      return handler(withPrincipal);
    };
  };
  return {
    authenticated,
    requireRole: (roles, handler) =>
      authenticated((request) => {
        if (!roles.includes(request.principal.role)) {
          throw new TotError(
            'API_FORBIDDEN',
            `role ${request.principal.role} may not ${request.method} ${request.path} (needs ${roles.join(' or ')})`,
            { roles },
          );
        }
        return handler(request);
      }),
  };
}
