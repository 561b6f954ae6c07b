import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.ts';
import { startApp, type E2eApp, type TestUser } from './support/app.ts';
import { launchBrowser, openPage, screenshot } from './support/browser.ts';
import { connectPhone, deviceTokenEntry, type TestPhone } from './support/phone.ts';

const DOCTOR_ID = 'doc-e2e-emergency';
/** Test value only. */
const DEVICE_TOKEN = 'e2e-emergency-device-token-0123';
const PATIENT_HOME = { lat: 55.7601, lng: 37.6185 };
const DOCTOR_START = { lat: 55.7522, lng: 37.6101 };

describe('an emergency in the console', () => {
  let app: E2eApp;
  let browser: Browser;
  let dispatcher: TestUser;
  let patient: TestUser;
  let phone: TestPhone | undefined;

  beforeAll(async () => {
    app = await startApp({
      SIMULATOR: 'false',
      DEVICE_TOKENS: deviceTokenEntry('phone-e2e-emergency', DOCTOR_ID, DEVICE_TOKEN),
    });
    browser = await launchBrowser();
    dispatcher = await app.createUser('emergency-dispatcher', 'dispatcher');
    patient = await app.createUser('emergency-patient', 'patient');
  });

  afterAll(async () => {
    phone?.close();
    await browser?.close();
    await app?.stop();
  });

  it('raises an alert for an emergency booked through the API and shows its assignment; the dispatcher reassigns and assigns by hand', async () => {
    phone = await connectPhone(app, DOCTOR_ID, DEVICE_TOKEN);
    await phone.placeAt(DOCTOR_START.lat, DOCTOR_START.lng);

    const { page, context, problems } = await openPage(browser);
    try {
      await page.goto(app.url(`/console#14/${PATIENT_HOME.lat}/${PATIENT_HOME.lng}`));
      await page.getByTestId('login-email').fill(dispatcher.email);
      await page.getByTestId('login-password').fill(dispatcher.password);
      await page.getByTestId('login-submit').click();
      await page.locator('[data-testid="connection"][data-state="open"]').waitFor({ timeout: 30_000 });
      await page.locator('[data-testid="map"]:not([data-seq=""])').waitFor({ timeout: 30_000 });

      const created = await app.api('POST', '/v1/bookings', {
        token: patient.accessToken,
        body: {
          callType: 'emergency',
          symptoms: 'chest pain, short of breath',
          address: 'Tverskaya 7',
          lat: PATIENT_HOME.lat,
          lng: PATIENT_HOME.lng,
          priority: 1,
          emergencyType: 'cardiac',
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const bookingId = created.body['id'] as string;

      // The alert: an entry in the list and the banner, both naming the booking.
      const alert = page.locator(
        `[data-testid="alert"][data-kind="emergency"][data-booking-id="${bookingId}"]`,
      );
      await alert.waitFor({ timeout: 15_000 });
      await page
        .locator(`[data-testid="alert-banner"][data-booking-id="${bookingId}"]`)
        .waitFor({ timeout: 5_000 });
      await page
        .locator(`[data-testid="queue-item"][data-booking-id="${bookingId}"][data-priority="1"]`)
        .waitFor({ timeout: 15_000 });

      // Emergencies are matched at once: the only doctor gets the offer, accepts, and the alert shows the assignment.
      await phone.frame((frame) => frame['type'] === 'offer' && frame['bookingId'] === bookingId, 15_000);
      phone.send({ type: 'accept', bookingId });
      await phone.frame((frame) => frame['type'] === 'ack' && frame['bookingId'] === bookingId);
      // Accepting a visit wanted now makes it assigned and en route in one step.
      const alertAssigned = page.locator(
        ['assigned', 'en_route']
          .map(
            (status) =>
              `[data-testid="alert"][data-booking-id="${bookingId}"][data-doctor-id="${DOCTOR_ID}"][data-booking-status="${status}"]`,
          )
          .join(', '),
      );
      await alertAssigned.waitFor({ timeout: 15_000 });
      expect(await page.getByTestId('alert-banner').textContent()).toContain(DOCTOR_ID);
      await screenshot(page, 'console-emergency-assigned');

      // Reassign from the console: the doctor is taken off the booking.
      await alert.click();
      await page
        .locator(`[data-testid="assign-panel"][data-booking-id="${bookingId}"]`)
        .waitFor({ timeout: 5_000 });
      await page.getByTestId('reassign').click();
      await page.locator('[data-testid="assign-result"][data-outcome="ok"]').waitFor({ timeout: 10_000 });
      const afterReassign = await app.api('GET', `/v1/bookings/${bookingId}`, {
        token: await app.adminToken(),
      });
      expect(afterReassign.body).not.toHaveProperty('doctorId');

      // Assign by hand: the doctor is offered in the candidates list (nearest available).
      const assignButton = page.locator(`[data-testid="assign-doctor"][data-doctor-id="${DOCTOR_ID}"]`);
      await assignButton.waitFor({ timeout: 15_000 });
      await assignButton.click();
      await page.locator('[data-testid="assign-result"][data-outcome="ok"]').waitFor({ timeout: 10_000 });
      await waitFor(
        async () => {
          const booking = await app.api('GET', `/v1/bookings/${bookingId}`, {
            token: await app.adminToken(),
          });
          return ['assigned', 'en_route'].includes(booking.body['status'] as string) &&
            booking.body['doctorId'] === DOCTOR_ID
            ? true
            : undefined;
        },
        { timeoutMs: 10_000, what: 'the booking assigned by hand' },
      );
      await page
        .locator(
          ['assigned', 'en_route']
            .map(
              (status) =>
                `[data-testid="queue-item"][data-booking-id="${bookingId}"][data-doctor-id="${DOCTOR_ID}"][data-status="${status}"]`,
            )
            .join(', '),
        )
        .waitFor({ timeout: 15_000 });
      await screenshot(page, 'console-emergency-assigned-by-hand');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
