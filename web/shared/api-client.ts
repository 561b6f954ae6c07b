/** A user as the auth routes return it. */
export interface User {
  id: string;
  email: string;
  role: 'patient' | 'doctor' | 'clinic_admin' | 'dispatcher' | 'admin';
  displayName: string;
}

/** A signed-in session: the token pair of POST /v1/auth/login and who it is. */
export interface Session {
  accessToken: string;
  refreshToken: string;
  user: User;
}

/** A refused request: the problem+json document's code, status and detail. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'ApiProblem';
  }
}

interface TokenPair {
  accessToken: string;
  refreshToken: string;
  user: User;
}

/**
 * Talks to the engine's HTTP API from a page of the same origin. The session is kept in sessionStorage under a
 * key of the page's own, so a console and a patient page open in two tabs of one browser stay signed in as
 * different users. An access token that has expired is refreshed once, transparently (the refresh token rotates).
 */
export class ApiClient {
  private current: Session | undefined;
  private refreshing: Promise<Session> | undefined;

  constructor(private readonly storageKey: string) {
    const stored = sessionStorage.getItem(storageKey);
    if (stored) {
      try {
        this.current = JSON.parse(stored) as Session;
      } catch {
        sessionStorage.removeItem(storageKey);
      }
    }
  }

  /** The signed-in session, if any. */
  get session(): Session | undefined {
    return this.current;
  }

  /** Signs in; @throws ApiProblem (`API_INVALID_CREDENTIALS`, `API_RATE_LIMITED`, …). */
  async login(email: string, password: string): Promise<Session> {
    const pair = await this.send<TokenPair>('POST', '/v1/auth/login', { email, password }, false);
    return this.remember(pair);
  }

  /** Registers a patient account and signs it in. @throws ApiProblem (`API_EMAIL_TAKEN`, validation). */
  async register(email: string, password: string, displayName: string): Promise<Session> {
    await this.send('POST', '/v1/auth/register', { email, password, displayName }, false);
    return this.login(email, password);
  }

  /** Forgets the session here and revokes its refresh tokens on the server (errors ignored: we leave anyway). */
  async logout(): Promise<void> {
    const session = this.current;
    this.forget();
    if (session) {
      await this.send('POST', '/v1/auth/logout', { refreshToken: session.refreshToken }, false).catch(
        () => {},
      );
    }
  }

  /** An access token that is valid now, refreshing first when the current one has (almost) expired. */
  async accessToken(): Promise<string> {
    const session = this.current;
    if (!session) throw new ApiProblem(401, 'API_UNAUTHENTICATED', 'not signed in');
    if (expiresWithin(session.accessToken, 15_000)) return (await this.refresh()).accessToken;
    return session.accessToken;
  }

  /** GET with the access token. @throws ApiProblem. */
  get<Body>(path: string): Promise<Body> {
    return this.send<Body>('GET', path, undefined, true);
  }

  /** POST JSON with the access token. @throws ApiProblem. */
  post<Body>(path: string, body: unknown = {}): Promise<Body> {
    return this.send<Body>('POST', path, body, true);
  }

  private async send<Body>(
    method: string,
    path: string,
    body: unknown,
    authenticated: boolean,
    retried = false,
  ): Promise<Body> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (authenticated) headers['authorization'] = `Bearer ${await this.accessToken()}`;
    const response = await fetch(path, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const parsed: unknown = text === '' ? undefined : safeJson(text);
    if (response.ok) return parsed as Body;
    const problem = (parsed ?? {}) as { code?: string; detail?: string };
    const code = problem.code ?? `HTTP_${response.status}`;
    if (authenticated && !retried && code === 'API_TOKEN_EXPIRED') {
      await this.refresh();
      return this.send<Body>(method, path, body, authenticated, true);
    }
    throw new ApiProblem(response.status, code, problem.detail ?? response.statusText);
  }

  private refresh(): Promise<Session> {
    const session = this.current;
    if (!session) return Promise.reject(new ApiProblem(401, 'API_UNAUTHENTICATED', 'not signed in'));
    // Concurrent callers share one refresh: a second use of the same refresh token would revoke the login.
    this.refreshing ??= this.send<TokenPair>(
      'POST',
      '/v1/auth/refresh',
      { refreshToken: session.refreshToken },
      false,
    )
      .then((pair) => this.remember(pair))
      .catch((error: unknown) => {
        this.forget();
        throw error;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private remember(pair: TokenPair): Session {
    this.current = { accessToken: pair.accessToken, refreshToken: pair.refreshToken, user: pair.user };
    sessionStorage.setItem(this.storageKey, JSON.stringify(this.current));
    return this.current;
  }

  private forget(): void {
    this.current = undefined;
    sessionStorage.removeItem(this.storageKey);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text };
  }
}

/** Whether a JWT's `exp` is less than `marginMs` away (an unreadable token counts as expiring). */
function expiresWithin(token: string, marginMs: number): boolean {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as {
      exp?: number;
    };
    return typeof payload.exp !== 'number' || payload.exp * 1000 - Date.now() < marginMs;
  } catch {
    return true;
  }
}

/** The WebSocket URL of `path` on this page's origin (ws: or wss: to match http: or https:). */
export function socketUrl(path: string, query: Record<string, string>): string {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url.href;
}
