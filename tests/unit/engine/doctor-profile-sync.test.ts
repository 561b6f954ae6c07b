import { describe, expect, it } from 'vitest';
import { fleetProfileSync, type DoctorProfile } from '../../../engine/doctor-profiles.ts';
import { Fleet } from '../../../engine/fleet.ts';

const NOW = Date.UTC(2026, 10, 22, 9);

function profile(change: Partial<DoctorProfile> = {}): DoctorProfile {
  return {
    doctorId: 'doc-17',
    userId: null,
    fullName: 'Dr Seventeen',
    specializations: ['therapist', 'pediatrics'],
    licenseNumber: 'MD-17',
    experienceYears: 9,
    clinicId: 'clinic-7',
    verified: true,
    verifiedAt: NOW,
    verifiedBy: null,
    createdAt: NOW,
    updatedAt: NOW,
    ...change,
  };
}

describe('fleetProfileSync', () => {
  it('registers a verified profile as the fleet profile, keeping the position and status', () => {
    const fleet = new Fleet();
    fleet.applyFix({ doctorId: 'doc-17', lat: 55.75, lng: 37.62, ts: NOW }, NOW);
    fleetProfileSync(
      () => fleet,
      () => NOW + 1,
    )(profile());
    expect(fleet.get('doc-17')).toMatchObject({
      status: 'available',
      lat: 55.75,
      specializations: ['therapist', 'pediatrics'],
      clinicId: 'clinic-7',
    });
    const hits = fleet.nearby(55.75, 37.62, { k: 5, specialization: 'pediatrics' });
    expect(hits.map((hit) => hit.doctor.id)).toEqual(['doc-17']);
  });

  it('takes a known doctor off duty when the profile is not verified, and leaves an unknown one alone', () => {
    const fleet = new Fleet();
    const sync = fleetProfileSync(
      () => fleet,
      () => NOW,
    );
    sync(profile());
    fleet.applyFix({ doctorId: 'doc-17', lat: 55.75, lng: 37.62, ts: NOW }, NOW);
    sync(profile({ verified: false, verifiedAt: null }));
    expect(fleet.get('doc-17')?.status).toBe('offline');
    // A later fix does not bring an off-duty doctor back.
    fleet.applyFix({ doctorId: 'doc-17', lat: 55.76, lng: 37.62, ts: NOW + 1_000 }, NOW + 1_000);
    expect(fleet.get('doc-17')?.status).toBe('offline');

    sync(profile({ doctorId: 'doc-18', verified: false, verifiedAt: null }));
    expect(fleet.get('doc-18')).toBeUndefined();
  });

  it('follows the fleet getter, so a fleet replaced by a restore is the one updated', () => {
    let fleet = new Fleet();
    const sync = fleetProfileSync(
      () => fleet,
      () => NOW,
    );
    fleet = new Fleet();
    sync(profile());
    expect(fleet.get('doc-17')?.specializations).toEqual(['therapist', 'pediatrics']);
  });
});
