import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type E2eApp, type TestUser } from './support/app.ts';
import { launchBrowser, openPage, screenshot } from './support/browser.ts';

describe('the web pages served by the engine', () => {
  let app: E2eApp;
  let browser: Browser;
  let dispatcher: TestUser;

  beforeAll(async () => {
    app = await startApp({ SIMULATOR: 'false' });
    browser = await launchBrowser();
    dispatcher = await app.createUser('pages-dispatcher', 'dispatcher');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('serves the pages as HTML with their config, and assets under content-hashed names for good', async () => {
    const page = await fetch(app.url('/console'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const config = JSON.parse(
      /<script type="application\/json" id="page-config">(.*?)<\/script>/.exec(html)![1]!,
    );
    expect(config).toMatchObject({
      page: 'console',
      mapWorkerUrl: expect.stringMatching(/^\/assets\/maplibre-gl-worker-\w+\.mjs$/),
    });
    expect(config).not.toHaveProperty('mapStyleUrl');
    const script = /src="(\/assets\/console-\w+\.js)"/.exec(html)![1]!;
    const asset = await fetch(app.url(script));
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const worker = await fetch(app.url(config.mapWorkerUrl));
    expect(worker.status).toBe(200);
    expect((await worker.text()).length).toBeGreaterThan(100_000);

    const missing = await fetch(app.url('/assets/console-00000000.js'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'API_NOT_FOUND' });
    const tracked = await (await fetch(app.url('/track/booking-%3C%2Fscript%3E'))).text();
    expect(tracked).toContain('"bookingId":"booking-\\u003c/script>"');
  });

  it('the console refuses a patient, signs a dispatcher in and draws the offline map (WebGL on SwiftShader)', async () => {
    const patient = await app.createUser('pages-patient', 'patient');
    const { page, context, problems } = await openPage(browser);
    try {
      await page.goto(app.url('/console'));
      await page.getByTestId('login-email').fill(patient.email);
      await page.getByTestId('login-password').fill(patient.password);
      await page.getByTestId('login-submit').click();
      await expectText(page.getByTestId('login-error'), /this page is for dispatcher or admin/);

      await page.getByTestId('login-email').fill(dispatcher.email);
      await page.getByTestId('login-password').fill(dispatcher.password);
      await page.getByTestId('login-submit').click();
      const map = page.getByTestId('map');
      await map.and(page.locator('[data-map-ready="true"]')).waitFor({ timeout: 30_000 });
      expect(await map.getAttribute('data-map-style')).toBe('offline');
      // The offline fallback's H3 grid covers the view.
      expect(Number(await map.getAttribute('data-grid-cells'))).toBeGreaterThan(100);
      expect(await page.getByTestId('user').textContent()).toContain('dispatcher');
      // MapLibre drew into a WebGL canvas: the context exists and is not lost. (A string evaluated in the page: this
      // file is compiled without the DOM's types.)
      const webgl = await page.evaluate<boolean>(`(() => {
        const canvas = document.querySelector('canvas.maplibregl-canvas');
        const gl = canvas && (canvas.getContext('webgl2') || canvas.getContext('webgl'));
        return Boolean(gl) && !gl.isContextLost();
      })()`);
      expect(webgl).toBe(true);
      await screenshot(page, 'console-signed-in');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a patient registers on the patient page and gets the booking form with the map pin', async () => {
    const { page, context } = await openPage(browser);
    try {
      await page.goto(app.url('/patient'));
      await page.getByTestId('login-toggle').click();
      await page.getByTestId('login-email').fill('pages-new-patient@example.test');
      await page.getByTestId('login-password').fill('new patient password');
      await page.getByTestId('login-name').fill('New Patient');
      await page.getByTestId('login-submit').click();
      await page.getByTestId('book-form').waitFor({ timeout: 30_000 });
      expect(Number(await page.getByTestId('book-lat').inputValue())).toBeCloseTo(55.7558, 3);
      await page.getByTestId('map').and(page.locator('[data-map-ready="true"]')).waitFor({ timeout: 30_000 });
      await screenshot(page, 'patient-booking-form');
    } finally {
      await context.close();
    }
  });
});

async function expectText(locator: Locator, pattern: RegExp): Promise<void> {
  await locator.filter({ hasText: pattern }).waitFor({ timeout: 10_000 });
  expect(await locator.textContent()).toMatch(pattern);
}
