/**
 * The price quoted for a request: the tariff of pricing.ts with the straight-line distance from the nearest available
 * doctor with the wanted specialization, and that doctor's ETA.
 */
import { etaSeconds } from '../geo/eta.ts';
import type { BookingRequest, PriceEstimate } from './booking-types.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { estimatePrice, type Tariff } from './pricing.ts';

/** The quote for `request` for a visit at `at`, with the fleet and traffic as they are at `now`. */
export function quotePrice(
  context: Pick<DispatchContext, 'live' | 'settings'>,
  request: Pick<BookingRequest, 'lat' | 'lng' | 'callType' | 'priority' | 'specialization'>,
  at: number,
  now: number,
  tariff: Tariff,
): PriceEstimate {
  const { live, settings } = context;
  const [nearest] = live.fleet.nearbyBrief(request.lat, request.lng, {
    k: 1,
    status: 'available',
    maxKm: settings.maxKm,
    ...(request.specialization === undefined ? {} : { specialization: request.specialization }),
  });
  const eta =
    nearest === undefined ? undefined : etaSeconds(live.traffic, nearest, request, now, settings.eta);
  return estimatePrice(
    {
      callType: request.callType,
      priority: request.priority,
      at,
      ...(nearest === undefined ? {} : { nearestDoctorKm: nearest.distanceKm }),
      ...(eta === undefined ? {} : { etaSeconds: eta }),
    },
    tariff,
  );
}
