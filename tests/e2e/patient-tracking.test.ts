import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.ts';
import { startApp, type E2eApp } from './support/app.ts';
import { launchBrowser, openPage, screenshot } from './support/browser.ts';
import { connectPhone, deviceTokenEntry, type TestPhone } from './support/phone.ts';

const DOCTOR_ID = 'doc-e2e-tracking';
/** Test value only. */
const DEVICE_TOKEN = 'e2e-tracking-device-token-0123';
const HOME = { lat: 55.7558, lng: 37.6173 };
/** Start 2.5 km south of the patient and walk north in steps of 500 m. */
const START = { lat: 55.7333, lng: 37.6173 };
const STEP_DEGREES = 0.0045;

describe('the patient page while the doctor comes', () => {
  let app: E2eApp;
  let browser: Browser;
  let phone: TestPhone | undefined;

  beforeAll(async () => {
    app = await startApp({
      SIMULATOR: 'false',
      DEVICE_TOKENS: deviceTokenEntry('phone-e2e-tracking', DOCTOR_ID, DEVICE_TOKEN),
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    phone?.close();
    await browser?.close();
    await app?.stop();
  });

  it('a patient books on the page; the doctor accepts on the phone; the marker moves and the ETA falls', async () => {
    phone = await connectPhone(app, DOCTOR_ID, DEVICE_TOKEN);
    await phone.placeAt(START.lat, START.lng);

    const { page, context, problems } = await openPage(browser);
    try {
      await page.goto(app.url('/patient'));
      await page.getByTestId('login-toggle').click();
      await page.getByTestId('login-email').fill('tracking-patient@example.test');
      await page.getByTestId('login-password').fill('tracking patient password');
      await page.getByTestId('login-name').fill('Tracking Patient');
      await page.getByTestId('login-submit').click();
      await page.getByTestId('book-form').waitFor({ timeout: 30_000 });
      await page.getByTestId('book-address').fill('Tverskaya 1');
      await page.getByTestId('book-lat').fill(String(HOME.lat));
      await page.getByTestId('book-lng').fill(String(HOME.lng));
      await page.getByTestId('book-symptoms').fill('fever since the morning');
      await page.getByTestId('book-submit').click();
      await page.getByTestId('tracking').waitFor({ timeout: 15_000 });
      const bookingId = (await page.getByTestId('tracking').getAttribute('data-booking-id'))!;
      expect(page.url()).toContain(`/track/${bookingId}`);

      // The only doctor gets the offer on the phone socket and accepts it there.
      const offer = await phone.frame(
        (frame) => frame['type'] === 'offer' && frame['bookingId'] === bookingId,
      );
      expect(offer).toMatchObject({ address: 'Tverskaya 1', priority: 4 });
      phone.send({ type: 'accept', bookingId });
      await phone.frame((frame) => frame['type'] === 'ack' && frame['bookingId'] === bookingId);
      await page
        .locator(`[data-testid="doctor"][data-doctor-id="${DOCTOR_ID}"]`)
        .waitFor({ timeout: 15_000 });
      await screenshot(page, 'patient-assigned');

      // The doctor walks north; every step shows on the page with a smaller ETA.
      const marker = page.getByTestId('doctor-marker');
      const eta = page.getByTestId('eta');
      const seen: { lat: number; eta: number }[] = [];
      for (let step = 1; step <= 4; step++) {
        const lat = START.lat + step * STEP_DEGREES;
        await phone.moveTo(lat, START.lng);
        const shown = await waitFor(
          async () => {
            const markerLat = Number(await marker.getAttribute('data-lat', { timeout: 1_000 }));
            const seconds = Number(await eta.getAttribute('data-eta-seconds', { timeout: 1_000 }));
            return Math.abs(markerLat - lat) < 1e-5 && Number.isFinite(seconds)
              ? { lat: markerLat, eta: seconds }
              : undefined;
          },
          { timeoutMs: 15_000, intervalMs: 100, what: `the marker at step ${step}` },
        );
        seen.push(shown);
      }
      await screenshot(page, 'patient-doctor-approaching');
      expect(seen.map((point) => point.lat)).toEqual(
        [...seen.map((point) => point.lat)].sort((a, b) => a - b),
      );
      for (let index = 1; index < seen.length; index++)
        expect(seen[index]!.eta).toBeLessThan(seen[index - 1]!.eta);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
