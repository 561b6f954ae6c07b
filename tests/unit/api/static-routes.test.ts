import { describe, expect, it } from 'vitest';
import { addStaticRoutes, renderPage, type PageConfig } from '../../../api/static-routes.ts';
import { Router } from '../../../api/router.ts';
import { buildWebBundle, type WebBundle } from '../../../api/web-bundle.ts';
import { TotError } from '../../../geo/errors.ts';

const TEMPLATE = '<html><head>%STYLE%</head><body>%CONFIG%%SCRIPT%</body></html>';

function stubBundle(): WebBundle {
  return {
    assets: new Map([
      [
        'console-AAAA.js',
        { name: 'console-AAAA.js', contentType: 'text/javascript; charset=utf-8', body: 'run()' },
      ],
    ]),
    entries: { console: { script: 'console-AAAA.js', style: 'console-BBBB.css' } },
    mapWorker: 'maplibre-gl-worker-1234.mjs',
    templates: { console: TEMPLATE, patient: TEMPLATE, doctor: TEMPLATE, index: TEMPLATE },
    builtInMs: 1,
  };
}

function request(path: string) {
  return {
    method: 'GET' as const,
    path,
    query: new URLSearchParams(),
    headers: {},
    remoteAddress: '127.0.0.1',
  };
}

describe('the static routes', () => {
  it('build the bundle once, on the first request, and serve pages and assets from memory', async () => {
    let builds = 0;
    const router = new Router();
    addStaticRoutes(router, { build: async () => (builds++, stubBundle()) });
    expect(builds).toBe(0);
    const page = await router.handle(request('/console'));
    expect(page.status).toBe(200);
    expect(page.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="/assets/console-AAAA.js"></script>');
    expect(page.body).toContain('<link rel="stylesheet" href="/assets/console-BBBB.css">');
    const asset = await router.handle(request('/assets/console-AAAA.js'));
    expect(asset).toMatchObject({ status: 200, body: 'run()' });
    expect(asset.headers?.['cache-control']).toContain('immutable');
    await router.handle(request('/doctor'));
    expect(builds).toBe(1);
  });

  it('tells the pages the configured base map, and /track/:bookingId its booking', async () => {
    const router = new Router();
    addStaticRoutes(router, {
      build: async () => stubBundle(),
      mapStyleUrl: 'https://tiles.example/style.json',
    });
    const html = (await router.handle(request('/track/b-42'))).body as string;
    const config = JSON.parse(/id="page-config">(.*?)<\/script>/.exec(html)![1]!);
    expect(config).toEqual({
      page: 'patient',
      mapWorkerUrl: '/assets/maplibre-gl-worker-1234.mjs',
      mapStyleUrl: 'https://tiles.example/style.json',
      bookingId: 'b-42',
    });
  });

  it('answers 404 for an unknown asset and 400 for a name that is not one', async () => {
    const router = new Router();
    addStaticRoutes(router, { build: async () => stubBundle() });
    await expect(router.handle(request('/assets/nope.js'))).rejects.toMatchObject({ code: 'API_NOT_FOUND' });
    await expect(router.handle(request('/assets/..%2Fpackage.json'))).rejects.toMatchObject({
      code: 'API_VALIDATION_FAILED',
    });
  });

  it('a failed build is reported, answered 500 without detail, and retried on the next request', async () => {
    const outcomes: unknown[] = [];
    let attempts = 0;
    const router = new Router();
    addStaticRoutes(router, {
      build: async () => {
        attempts++;
        if (attempts === 1) throw new Error('web/console/main.ts:1:1: syntax error');
        return stubBundle();
      },
      onBuilt: (outcome) => outcomes.push(outcome),
    });
    const failure = await router.handle(request('/console')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TotError);
    expect((failure as TotError).code).toBe('API_INTERNAL');
    expect(outcomes[0]).toHaveProperty('error');
    expect((await router.handle(request('/console'))).status).toBe(200);
    expect(attempts).toBe(2);
  });

  it('every page route carries OpenAPI metadata under the web tag', () => {
    const router = new Router();
    addStaticRoutes(router, { build: async () => stubBundle() });
    const routes = router.describe();
    expect(routes.map((route) => `${route.method} ${route.pattern}`).sort()).toEqual([
      'GET /',
      'GET /assets/:name',
      'GET /console',
      'GET /doctor',
      'GET /patient',
      'GET /track/:bookingId',
    ]);
    for (const route of routes) expect(route.meta?.tags).toEqual(['web']);
  });

  it('renderPage embeds the config as JSON that cannot end its script element', () => {
    const config: PageConfig = {
      page: 'patient',
      mapWorkerUrl: '/assets/w.mjs',
      bookingId: '</script><script>alert(1)</script>',
    };
    const html = renderPage(stubBundle(), 'patient', config);
    expect(html).not.toContain('</script><script>alert(1)');
    const json = /id="page-config">(.*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json)).toEqual(config);
  });
});

describe('buildWebBundle', () => {
  it('bundles the three pages with their styles, the shared chunk and MapLibre’s worker', async () => {
    const bundle = await buildWebBundle();
    for (const page of ['console', 'patient', 'doctor']) {
      const entry = bundle.entries[page]!;
      expect(bundle.assets.get(entry.script)?.contentType).toMatch(/^text\/javascript/);
      expect(bundle.assets.get(entry.style!)?.body).toContain('.maplibregl-map');
      expect(bundle.templates[page]).toContain('%SCRIPT%');
    }
    expect(bundle.assets.get(bundle.mapWorker)!.body.length).toBeGreaterThan(100_000);
  });
});
