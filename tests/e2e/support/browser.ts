import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { inject } from 'vitest';

/** Where screenshots go (gitignored): artifacts/e2e/<name>.png. */
export const ARTIFACTS_DIR = path.resolve(import.meta.dirname, '../../../artifacts/e2e');

/**
 * Flags for headless Chromium on these machines: no GPU, so WebGL (which MapLibre needs) runs on SwiftShader, ANGLE's
 * CPU renderer; `--no-sandbox` because the tests may run as root; /dev/shm may be small in containers.
 */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-dev-shm-usage',
];

/** Launches the Chromium the global setup found. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: inject('CHROMIUM'), headless: true, args: CHROMIUM_FLAGS });
}

/** A page with its console errors and uncaught exceptions collected, to explain a failure. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** `console.error` lines, uncaught exceptions and failed requests, in order. */
  problems: string[];
}

/** Opens a fresh context (own storage) and page; `options` as playwright's newContext takes them. */
export async function openPage(
  browser: Browser,
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    // A failed request is reported below with its URL; the console's line for it names none.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('response', (response) => {
    if (response.status() >= 400)
      problems.push(`http ${response.status()} ${new URL(response.url()).pathname}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { page, context, problems };
}

/** Saves a screenshot of the page as artifacts/e2e/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

/** Reads a data attribute of the first element matching `selector`, waiting up to `timeoutMs` for the element. */
export async function dataOf(
  page: Page,
  selector: string,
  attribute: string,
  timeoutMs = 10_000,
): Promise<string | null> {
  return page.locator(selector).first().getAttribute(`data-${attribute}`, { timeout: timeoutMs });
}
