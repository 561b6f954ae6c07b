import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './wait.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');

/** An engine started as its own process, the way `npm start` runs it. */
export interface EngineProcess {
  child: ChildProcess;
  /** The bound HTTP port, read from the start-up log. */
  port: number;
  /** Every log line so far (JSON, one object per line) and anything written to stderr. */
  output: string[];
  /** Resolves with the exit code and signal once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  url(pathname: string): string;
}

/**
 * Starts `engine/main.ts` with `environment` on top of a clean environment: the service URLs the integration setup
 * exports are removed unless given, so the default is the embedded runtime. PORT=0 picks a free port.
 */
export async function startEngineProcess(
  environment: Record<string, string>,
  timeoutMs = 60_000,
): Promise<EngineProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL']) delete env[name];
  // Tests poll the API far faster than a person would; a test of the limits sets its own.
  const defaults = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '1000000' };
  Object.assign(env, defaults, environment);
  const child = spawn(process.execPath, ['--import', 'tsx', 'engine/main.ts'], {
    cwd: repositoryRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let port: number | undefined;
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      output.push(line);
      const match = /"port":(\d+).*HTTP server listening/.exec(line);
      if (match) port = Number(match[1]);
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const died = exited.then(({ code, signal }) => {
    throw new Error(`engine exited during start-up (code ${code}, signal ${signal}):\n${output.join('\n')}`);
  });
  died.catch(() => {});
  const bound = await Promise.race([
    waitFor(() => port, { timeoutMs, what: 'engine listening' }),
    died,
  ]).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return { child, port: bound, output, exited, url: (pathname) => `http://127.0.0.1:${bound}${pathname}` };
}

/** Fetches JSON, returning status and body. */
export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** Waits until the engine's /readyz answers 200 (every part ready, or degraded but serving). */
export async function waitUntilReady(engine: EngineProcess, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => ((await getJson(engine.url('/readyz'))).status === 200 ? true : undefined), {
    timeoutMs,
    what: '/readyz 200',
  });
}
