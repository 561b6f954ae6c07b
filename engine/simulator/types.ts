/**
 * What the city simulator produces. Field names match the stream records of docs/ARCHITECTURE.md (tot.fixes,
 * tot.readings), so fixes and readings can be published as they are.
 */

/** One GPS fix, as a phone would send it to tot.fixes. */
export interface SimFix {
  doctorId: string;
  lat: number;
  lng: number;
  /** Simulated time, integer ms since the epoch; strictly increasing per doctor. */
  ts: number;
  /** Radius of the 68 % confidence circle, metres. */
  accuracy: number;
  /** Ground speed, m/s. */
  speed: number;
  /** Direction of travel, degrees clockwise from north, in [0, 360). */
  heading: number;
  /** Battery charge, percent, integer in [0, 100]. */
  battery: number;
  /** Per-doctor counter, strictly increasing from 1. */
  seq: number;
}

/** One detector reading, as a detector would send it to tot.readings. */
export interface SimReading {
  detectorId: string;
  /** Simulated time, integer ms since the epoch; strictly increasing per detector. */
  ts: number;
  speedKmh: number;
  /** Vehicles counted since the detector's previous reading. */
  volume: number;
  /** Percentage of the interval the detector was occupied, in [0, 100]. */
  occupancy: number;
  lat: number;
  lng: number;
}

/** A doctor going on or off duty. */
export interface SimDutyChange {
  doctorId: string;
  onDuty: boolean;
  ts: number;
}

/**
 * Everything that happened in (previous step, now]. Fixes are grouped by doctor, each doctor's in time order; duty
 * changes carry their own `ts` so a consumer can interleave them with the fixes. No statuses: they are the
 * dispatcher's.
 */
export interface SimStep {
  fixes: SimFix[];
  readings: SimReading[];
  duty: SimDutyChange[];
}

/** A doctor handed between the simulator and whoever holds them (CitySimulator.hold and release). */
export interface SimHandedDoctor {
  lat: number;
  lng: number;
  /** `ts` of the last fix sent for the doctor (-Infinity when none was). */
  lastFixAt: number;
  /** `seq` of that fix (0 when none was). */
  seq: number;
}

/** A doctor of the roster. */
export interface SimDoctor {
  doctorId: string;
  specializations: string[];
  clinicId: string;
  /** In [3.5, 5.0], one decimal. */
  rating: number;
  lat: number;
  lng: number;
  onDuty: boolean;
  /** Whether the dispatch side holds the doctor (CitySimulator.hold): the simulator does not move them. */
  held: boolean;
}

/** A clinic the doctors belong to; its doctors start around it. */
export interface SimClinic {
  clinicId: string;
  lat: number;
  lng: number;
}

/** A fixed traffic detector. */
export interface SimDetector {
  detectorId: string;
  lat: number;
  lng: number;
}

/** A place where traffic is slower than the city's profile, most of all at rush hour. */
export interface SimHotSpot {
  lat: number;
  lng: number;
  /** Distance at which the slowdown has fallen to e^(−1/2) of its peak, metres. */
  radiusM: number;
  /** Share of speed lost at the centre at the worst rush hour, in (0, 1). */
  severity: number;
}
