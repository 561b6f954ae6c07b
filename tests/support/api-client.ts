import type { EngineProcess } from './engine-process.ts';

/** A JSON answer: status, body (an empty object for an empty body) and headers. */
export interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** Test values only: the password of every user a suite registers. */
export const TEST_PASSWORD = 'a test password 123';

/**
 * A JSON client of an engine started by {@link startEngineProcess}: sends with an optional bearer token and parses
 * problem+json and JSON alike.
 */
export function apiClient(engine: EngineProcess) {
  async function send(
    method: string,
    pathname: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(engine.url(pathname), {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      headers: response.headers,
    };
  }

  /** Registers a patient `<name>@example.test`; fails the test unless it is created. */
  async function register(name: string): Promise<{ id: string; email: string }> {
    const email = `${name}@example.test`;
    const reply = await send('POST', '/v1/auth/register', {
      body: { email, password: TEST_PASSWORD, displayName: name },
    });
    if (reply.status !== 201)
      throw new Error(`register ${name}: ${reply.status} ${JSON.stringify(reply.body)}`);
    return { id: reply.body['id'] as string, email };
  }

  /** Logs in and returns the access token (a new one carries the user's current role). */
  async function login(email: string, password = TEST_PASSWORD): Promise<string> {
    const reply = await send('POST', '/v1/auth/login', { body: { email, password } });
    if (reply.status !== 200)
      throw new Error(`login ${email}: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body['accessToken'] as string;
  }

  return { send, register, login };
}

/** The fields a problem document names, in order. */
export function fieldsOf(body: Record<string, unknown>): string[] {
  return ((body['errors'] as { field: string }[] | undefined) ?? []).map((error) => error.field);
}
