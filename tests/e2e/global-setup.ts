/**
 * Global setup of the `e2e` vitest project: makes sure a headless Chromium is installed (scripts/services/chromium.sh,
 * Debian's `chromium` package) and tells the test files where it is (`inject('CHROMIUM')`). The engines under test are
 * started by each file (tests/e2e/support/app.ts) with the embedded runtime; no other service is needed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the Chromium executable the tests drive. */
    CHROMIUM: string;
  }
}

const repositoryRoot = path.resolve(import.meta.dirname, '../..');

/** Runs the install script and returns the executable it names on its last line. */
function findChromium(): Promise<string> {
  const script = path.join(repositoryRoot, 'scripts', 'services', 'chromium.sh');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      process.stdout.write(chunk);
    });
    child.on('error', (error) => reject(new Error(`could not run bash ${script}: ${error.message}`)));
    child.on('exit', (code) => {
      const found = /^CHROMIUM=(.+)$/m.exec(output);
      if (code === 0 && found) resolve(found[1]!.trim());
      else reject(new Error(`bash ${script} failed (exit code ${code}); see its output above`));
    });
  });
}

/**
 * Finds (or installs) Chromium and creates artifacts/e2e/ for the screenshots.
 *
 * @throws Error when Chromium can be neither found nor installed.
 */
export default async function setup(project: TestProject): Promise<void> {
  const chromium = await findChromium();
  mkdirSync(path.join(repositoryRoot, 'artifacts', 'e2e'), { recursive: true });
  project.provide('CHROMIUM', chromium);
}
