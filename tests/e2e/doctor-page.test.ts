import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.ts';
import { PASSWORD, startApp, type E2eApp, type TestUser } from './support/app.ts';
import { launchBrowser, openPage, screenshot } from './support/browser.ts';

const DOCTOR_ID = 'doc-e2e-page';
const FIRST = { latitude: 55.7512, longitude: 37.6011 };
const SECOND = { latitude: 55.7536, longitude: 37.6058 };

describe('the doctor page standing in for the phone', () => {
  let app: E2eApp;
  let browser: Browser;
  let doctor: { email: string };
  let patient: TestUser;

  beforeAll(async () => {
    app = await startApp({ SIMULATOR: 'false' });
    browser = await launchBrowser();
    const admin = await app.adminToken();
    const clinic = await app.api('POST', '/v1/clinics', {
      token: admin,
      body: { name: 'E2E clinic', address: 'Arbat 1', licenseNumber: 'LIC-CLINIC-E2E' },
    });
    expect(clinic.status, JSON.stringify(clinic.body)).toBe(201);
    const user = await app.createUser('page-doctor', 'patient');
    const profile = await app.api('POST', '/v1/doctors', {
      token: admin,
      body: {
        id: DOCTOR_ID,
        userId: user.id,
        fullName: 'Page Doctor',
        specializations: ['therapist'],
        licenseNumber: 'LIC-DOC-E2E',
        experienceYears: 7,
        clinicId: clinic.body['id'],
      },
    });
    expect(profile.status, JSON.stringify(profile.body)).toBe(201);
    expect((await app.api('POST', `/v1/doctors/${DOCTOR_ID}/verify`, { token: admin })).status).toBe(200);
    doctor = { email: user.email };
    patient = await app.createUser('page-patient', 'patient');
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('sends the browser’s geolocation as fixes, then takes an offer with Accept', async () => {
    const { page, context, problems } = await openPage(browser, {
      geolocation: FIRST,
      permissions: ['geolocation'],
    });
    try {
      await page.goto(app.url('/doctor'));
      await page.getByTestId('login-email').fill(doctor.email);
      await page.getByTestId('login-password').fill(PASSWORD);
      await page.getByTestId('login-submit').click();
      await page.locator('[data-testid="connection"][data-state="open"]').waitFor({ timeout: 30_000 });
      await page
        .locator('[data-testid="fix-status"]:not([data-acknowledged="0"])')
        .waitFor({ timeout: 15_000 });
      const position = async () => {
        const reply = await app.api('GET', `/v1/doctors/${DOCTOR_ID}/position`);
        return reply.status === 200 ? (reply.body as { lat: number; lng: number }) : undefined;
      };
      expect(
        await waitFor(position, { timeoutMs: 10_000, what: 'the first fix in the fleet' }),
      ).toMatchObject({
        lat: FIRST.latitude,
        lng: FIRST.longitude,
      });

      // The phone moves: the page's watch sends the new position.
      await context.setGeolocation(SECOND);
      await waitFor(async () => ((await position())?.lat === SECOND.latitude ? true : undefined), {
        timeoutMs: 15_000,
        what: 'the second fix in the fleet',
      });

      const created = await app.api('POST', '/v1/bookings', {
        token: patient.accessToken,
        body: {
          callType: 'home_visit',
          symptoms: 'sore throat',
          address: 'Arbat 10',
          lat: 55.7521,
          lng: 37.5952,
          priority: 3,
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const bookingId = created.body['id'] as string;
      const offer = page.locator(`[data-testid="offer"][data-booking-id="${bookingId}"]`);
      await offer.waitFor({ timeout: 20_000 });
      await screenshot(page, 'doctor-offer');
      await offer.getByTestId('offer-accept').click();
      await page
        .locator(`[data-testid="visit"][data-booking-id="${bookingId}"]`)
        .waitFor({ timeout: 10_000 });
      await waitFor(
        async () => {
          const booking = await app.api('GET', `/v1/bookings/${bookingId}`, { token: patient.accessToken });
          return booking.body['doctorId'] === DOCTOR_ID &&
            ['assigned', 'en_route'].includes(booking.body['status'] as string)
            ? true
            : undefined;
        },
        { timeoutMs: 10_000, what: 'the booking assigned to the page’s doctor' },
      );
      expect(await offer.count()).toBe(0);
      await screenshot(page, 'doctor-visit');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
