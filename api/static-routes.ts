import { z } from 'zod';
import { TotError } from '../geo/errors.ts';
import { validate } from './errors.ts';
import type { ApiResponse, RouteMeta, Router } from './router.ts';
import { buildWebBundle, type WebBundle } from './web-bundle.ts';

/** What the pages are told at load (embedded in their HTML as JSON, read by web/shared/page-config.ts). */
export interface PageConfig {
  page: 'console' | 'patient' | 'doctor' | 'index';
  /** MapLibre style URL of the base map; absent: the offline fallback (background and H3 grid). */
  mapStyleUrl?: string;
  /** URL of MapLibre's worker script. */
  mapWorkerUrl: string;
  /** The booking the patient page opens (/track/:bookingId). */
  bookingId?: string;
}

/** Options of {@link addStaticRoutes}. */
export interface StaticRoutesOptions {
  /** MAP_STYLE_URL. */
  mapStyleUrl?: string;
  /** Builds the bundle (default: esbuild over web/, {@link buildWebBundle}); tests may stub it. */
  build?: () => Promise<WebBundle>;
  /** Told once the bundle is built (its size and time), or that it failed. */
  onBuilt?: (outcome: { builtInMs: number; assets: number; bytes: number } | { error: unknown }) => void;
}

const bookingIdSchema = z.object({ bookingId: z.string().min(1).max(128) });
const assetNameSchema = z.object({ name: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/) });

/** Headers every page and asset carries: no MIME sniffing, no referrer leaking booking ids to a tile server. */
const COMMON_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

/**
 * The web pages and their assets: `/` (an index), `/console` (dispatchers), `/patient` and `/track/:bookingId`
 * (patients), `/doctor` (a doctor's browser standing in for the phone), `/assets/:name` (scripts, styles, MapLibre's
 * worker). The bundle is built on the first request and kept in memory for the life of the process, so an engine
 * that nobody browses never pays for it; a failed build is retried on the next request.
 */
export function addStaticRoutes(router: Router, options: StaticRoutesOptions = {}): void {
  const build = options.build ?? (() => buildWebBundle());
  let bundle: Promise<WebBundle> | undefined;
  const bundleOnce = (): Promise<WebBundle> => {
    bundle ??= build().then(
      (built) => {
        const bytes = [...built.assets.values()].reduce((total, asset) => total + asset.body.length, 0);
        options.onBuilt?.({ builtInMs: built.builtInMs, assets: built.assets.size, bytes });
        return built;
      },
      (error: unknown) => {
        bundle = undefined;
        options.onBuilt?.({ error });
        throw new TotError('API_INTERNAL', 'the web pages could not be built', {});
      },
    );
    return bundle;
  };

  const page = async (name: PageConfig['page'], bookingId?: string): Promise<ApiResponse> => {
    const built = await bundleOnce();
    const config: PageConfig = {
      page: name,
      mapWorkerUrl: `/assets/${built.mapWorker}`,
      ...(options.mapStyleUrl ? { mapStyleUrl: options.mapStyleUrl } : {}),
      ...(bookingId ? { bookingId } : {}),
    };
    return {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...COMMON_HEADERS },
      body: renderPage(built, name, config),
    };
  };

  const htmlMeta = (summary: string, description: string): RouteMeta => ({
    summary,
    description,
    tags: ['web'],
    response: { status: 200, description: 'the HTML page', contentType: 'text/html' },
    auth: false,
  });
  router.get(
    '/',
    () => page('index'),
    htmlMeta('Index of the web pages', 'Links to the console, patient and doctor pages.'),
  );
  router.get(
    '/console',
    () => page('console'),
    htmlMeta(
      'Dispatcher console',
      'Live map (WebSocket /v1/live), bookings queue, emergency alerts, traffic, manual assignment. Signs in as a dispatcher or admin.',
    ),
  );
  router.get(
    '/patient',
    () => page('patient'),
    htmlMeta('Patient page', 'Book a visit and follow the doctor (WebSocket /v1/bookings/:id/track).'),
  );
  router.get(
    '/track/:bookingId',
    (request) => page('patient', validate(bookingIdSchema, request.params, 'params').bookingId),
    {
      ...htmlMeta('Patient page for one booking', 'The patient page opened on an existing booking.'),
      params: bookingIdSchema,
    },
  );
  router.get(
    '/doctor',
    () => page('doctor'),
    htmlMeta(
      'Doctor page',
      'A browser standing in for the phone: geolocation fixes over WebSocket /v1/doctor, offers with accept and decline.',
    ),
  );
  router.get(
    '/assets/:name',
    async (request) => {
      const { name } = validate(assetNameSchema, request.params, 'params');
      const asset = (await bundleOnce()).assets.get(name);
      if (!asset)
        throw new TotError('API_NOT_FOUND', `no asset ${JSON.stringify(name)}`, { path: request.path });
      return {
        status: 200,
        // Names carry a content hash: a changed file is a new name, so a name can be cached for good.
        headers: {
          'content-type': asset.contentType,
          'cache-control': 'public, max-age=31536000, immutable',
          ...COMMON_HEADERS,
        },
        body: asset.body,
      };
    },
    {
      summary: 'A script or style of the web pages',
      description: 'Names carry a content hash (immutable); the pages link the current ones.',
      tags: ['web'],
      params: assetNameSchema,
      response: { status: 200, description: 'the asset', contentType: 'text/javascript' },
      auth: false,
    },
  );
}

/**
 * Fills a page template: `%STYLE%` and `%SCRIPT%` become the entry's hashed asset URLs, `%CONFIG%` the page config as
 * JSON that cannot close its script element (`<` is escaped).
 */
export function renderPage(bundle: WebBundle, name: PageConfig['page'], config: PageConfig): string {
  const template = bundle.templates[name];
  if (template === undefined) throw new TotError('API_NOT_FOUND', `no page ${name}`, { page: name });
  const entry = bundle.entries[name];
  const style = entry?.style ? `<link rel="stylesheet" href="/assets/${entry.style}">` : '';
  const script = entry ? `<script type="module" src="/assets/${entry.script}"></script>` : '';
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return template
    .replace('%STYLE%', () => style)
    .replace('%SCRIPT%', () => script)
    .replace('%CONFIG%', () => `<script type="application/json" id="page-config">${json}</script>`);
}
