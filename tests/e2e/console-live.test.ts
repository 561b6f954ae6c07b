import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.ts';
import { startApp, type E2eApp, type TestUser } from './support/app.ts';
import { launchBrowser, openPage, screenshot } from './support/browser.ts';

/** Where the console looks: the centre of the simulated city, zoomed in enough for individual doctors. */
const VIEW = '#13.2/55.7558/37.6173';

/** The doctors the console lists, by id, with the position it shows. */
async function listedDoctors(page: Page): Promise<Map<string, string>> {
  const rows = await page
    .getByTestId('doctor')
    .evaluateAll((items) =>
      items.map((item) => [
        item.getAttribute('data-doctor-id'),
        `${item.getAttribute('data-lat')},${item.getAttribute('data-lng')}`,
      ]),
    );
  return new Map(rows.filter((row): row is [string, string] => row[0] !== null));
}

describe('the console on the live map of the simulated city', () => {
  let app: E2eApp;
  let browser: Browser;
  let dispatcher: TestUser;

  beforeAll(async () => {
    // Simulated time runs 5× faster so that detectors (one reading every 30–60 simulated seconds) report within seconds.
    app = await startApp({
      SIMULATOR: 'true',
      SIMULATOR_DOCTORS: '1500',
      SIMULATOR_DETECTORS: '300',
      SIMULATOR_SPEEDUP: '5',
    });
    browser = await launchBrowser();
    dispatcher = await app.createUser('live-dispatcher', 'dispatcher');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('shows simulated doctors moving: their positions read twice differ', async () => {
    const { page, context, problems } = await openPage(browser);
    try {
      await page.goto(app.url(`/console${VIEW}`));
      await page.getByTestId('login-email').fill(dispatcher.email);
      await page.getByTestId('login-password').fill(dispatcher.password);
      await page.getByTestId('login-submit').click();
      const map = page.getByTestId('map');
      // The live socket answered the subscription with a snapshot of individual doctors in view.
      await page
        .locator('[data-testid="map"][data-mode="doctors"]:not([data-seq=""])')
        .waitFor({ timeout: 30_000 });
      await waitFor(
        async () => (Number(await map.getAttribute('data-doctor-count')) > 10 ? true : undefined),
        {
          timeoutMs: 30_000,
          what: 'more than 10 doctors in view',
        },
      );
      expect(await page.getByTestId('connection').getAttribute('data-state')).toBe('open');
      const first = await listedDoctors(page);
      expect(first.size).toBeGreaterThan(10);

      // Deltas keep coming and the same doctors show new positions.
      const moved = await waitFor(
        async () => {
          const second = await listedDoctors(page);
          const changed = [...second].filter(([id, position]) => first.has(id) && first.get(id) !== position);
          return changed.length >= 3 ? changed : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'three listed doctors at new positions' },
      );
      expect(moved.length).toBeGreaterThanOrEqual(3);
      // One delta may carry all three moves (the snapshot and it are two frames): the next ones come with time.
      const frames = await waitFor(
        async () => {
          const applied = Number(await map.getAttribute('data-frames'));
          return applied > 2 ? applied : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'more than two live frames' },
      );
      expect(frames).toBeGreaterThan(2);
      await screenshot(page, 'console-live-doctors');

      // The traffic layer: cells with detector readings arrive in the frames and are drawn.
      await waitFor(
        async () => (Number(await map.getAttribute('data-traffic-cells')) > 0 ? true : undefined),
        {
          timeoutMs: 30_000,
          intervalMs: 250,
          what: 'traffic cells in view',
        },
      );
      await screenshot(page, 'console-live-traffic');

      // Zoomed out, the view turns to per-cell counts: no individual doctors, the count summed over the cells.
      await page.evaluate(`window.location.hash = '#11/55.7558/37.6173'`);
      await page.locator('[data-testid="map"][data-mode="counts"]').waitFor({ timeout: 15_000 });
      await waitFor(
        async () => (Number(await map.getAttribute('data-doctor-count')) > 200 ? true : undefined),
        {
          timeoutMs: 15_000,
          what: 'more than 200 doctors counted in the zoomed-out view',
        },
      );
      expect(await page.getByTestId('doctor').count()).toBe(0);
      await screenshot(page, 'console-live-counts');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
