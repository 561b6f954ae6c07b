import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type E2eApp, type TestUser } from './support/app.ts';
import { launchBrowser, openPage, screenshot } from './support/browser.ts';

/** A base-map style as a tile server would publish it: here a single background layer, distinctively coloured. */
const STYLE = {
  version: 8,
  name: 'test base map',
  sources: {},
  layers: [{ id: 'land', type: 'background', paint: { 'background-color': '#f4e9d8' } }],
};

describe('MAP_STYLE_URL', () => {
  let styleServer: Server;
  let styleAvailable = true;
  let styleRequests = 0;
  let app: E2eApp;
  let browser: Browser;
  let patient: TestUser;

  beforeAll(async () => {
    styleServer = createServer((request, response) => {
      styleRequests++;
      if (!styleAvailable || request.url !== '/style.json') {
        response.writeHead(503).end();
        return;
      }
      response
        .writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
        .end(JSON.stringify(STYLE));
    });
    await new Promise<void>((resolve) => styleServer.listen(0, '127.0.0.1', resolve));
    const port = (styleServer.address() as AddressInfo).port;
    app = await startApp({ SIMULATOR: 'false', MAP_STYLE_URL: `http://127.0.0.1:${port}/style.json` });
    browser = await launchBrowser();
    patient = await app.createUser('style-patient', 'patient');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await new Promise((resolve) => styleServer?.close(resolve));
  });

  it('the pages load the configured style, and fall back to the offline map when it cannot be had', async () => {
    const { page, context } = await openPage(browser);
    try {
      await page.goto(app.url('/patient'));
      await page.getByTestId('login-email').fill(patient.email);
      await page.getByTestId('login-password').fill(patient.password);
      await page.getByTestId('login-submit').click();
      const map = page.getByTestId('map');
      await page.locator('[data-testid="map"][data-map-ready="true"]').waitFor({ timeout: 30_000 });
      expect(await map.getAttribute('data-map-style')).toBe('configured');
      expect(styleRequests).toBeGreaterThan(0);
      // The configured style replaces the offline one: no orientation grid.
      expect(await map.getAttribute('data-grid-cells')).toBeNull();
      await screenshot(page, 'map-style-configured');

      styleAvailable = false;
      await page.reload();
      await page.locator('[data-testid="map"][data-map-ready="true"]').waitFor({ timeout: 30_000 });
      expect(await map.getAttribute('data-map-style')).toBe('offline-fallback');
      expect(Number(await map.getAttribute('data-grid-cells'))).toBeGreaterThan(10);
      await screenshot(page, 'map-style-fallback');
    } finally {
      await context.close();
    }
  });
});
