import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocumentOf, openApiPathOf } from '../../../api/openapi.ts';
import { addDoctorRoutes } from '../../../api/routes/doctors.ts';
import { Router } from '../../../api/router.ts';
import { loadConfig } from '../../../engine/config.ts';
import { Fleet } from '../../../engine/fleet.ts';
import { createLogger } from '../../../engine/logger.ts';
import { startApplication, type Application } from '../../../engine/main.ts';

type Operation = {
  parameters: { name: string; in: string; required: boolean }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, unknown>;
  security?: unknown[];
};
type Document = {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties: Record<string, unknown> }> };
};

describe('openApiDocumentOf', () => {
  const router = new Router();
  addDoctorRoutes(router, () => new Fleet(), { history: { track: () => Promise.resolve([]) } });
  const document = openApiDocumentOf(router, { title: 'test', version: '1' }) as Document;

  it('is an OpenAPI 3.1 document with the shared problem schema', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.title).toBe('test');
    expect(Object.keys(document.components.schemas['Problem']!.properties)).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'code', 'errors']),
    );
  });

  it('names path and query parameters as the zod schemas do', () => {
    const nearby = document.paths['/v1/doctors/nearby']!['get']!;
    expect(nearby.parameters.map((p) => `${p.in}:${p.name}:${p.required}`)).toEqual([
      'query:lat:true',
      'query:lng:true',
      'query:k:false',
      'query:maxKm:false',
      'query:specialization:false',
      'query:status:false',
    ]);
    const track = document.paths['/v1/doctors/{id}/track']!['get']!;
    expect(track.parameters.map((p) => `${p.in}:${p.name}`)).toEqual([
      'path:id',
      'query:from',
      'query:to',
      'query:limit',
    ]);
    expect(track.responses['4XX']).toMatchObject({
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    });
  });

  it('turns :name patterns into {name} paths', () => {
    expect(openApiPathOf('/v1/traffic/sensors/:id')).toBe('/v1/traffic/sensors/{id}');
  });
});

describe('the application routes', () => {
  let app: Application;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'tot-openapi-'));
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      SIMULATOR: 'false',
      PGLITE_IN_MEMORY: 'true',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
    });
    app = await startApplication(config, createLogger('silent'));
  }, 60_000);

  // Stopping waits for the embedded store to finish starting, which takes seconds on a busy machine.
  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('every route has OpenAPI metadata, so that none is left out of the document', () => {
    const missing = app.router
      .describe()
      .filter((route) => route.meta === undefined)
      .map((route) => `${route.method} ${route.pattern}`);
    expect(missing).toEqual([]);
  });

  it('serves GET /openapi.json with every route under its method', async () => {
    const response = await fetch(`http://127.0.0.1:${app.port}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as Document;
    expect(document.openapi).toBe('3.1.0');
    for (const route of app.router.describe()) {
      const operation = document.paths[openApiPathOf(route.pattern)]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.pattern}`).toBeDefined();
      const pathNames = [...route.pattern.matchAll(/:(\w+)/g)].map((match) => match[1]);
      const declared = operation!.parameters.filter((p) => p.in === 'path').map((p) => p.name);
      expect(declared, `${route.method} ${route.pattern}`).toEqual(pathNames);
    }
    expect(document.paths['/v1/fixes']?.['post']?.security).toEqual([{ bearer: [] }]);
    expect(document.paths['/v1/traffic/sensors/{id}']?.['put']?.requestBody?.content).toHaveProperty(
      'application/json',
    );
  });
});
