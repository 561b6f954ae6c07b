import { z } from 'zod';
import { ERROR_CATALOGUE } from './errors.ts';
import type { RouteDescription, RouteMeta, Router } from './router.ts';

/** Title and version of the document. */
export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** The RFC 9457 problem document every error response carries (see problemOf in api/errors.ts). */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.enum(Object.keys(ERROR_CATALOGUE) as [string, ...string[]]),
  instance: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

type JsonSchema = Record<string, unknown>;

/** Input side: what a client sends (query values are strings before the handler parses them). */
function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  const { $schema: _ignored, ...rest } = json as JsonSchema;
  return rest;
}

function outputSchemaOf(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any', target: 'draft-2020-12' });
  const { $schema: _ignored, ...rest } = json as JsonSchema;
  return rest;
}

/** `/v1/doctors/:id/position` → `/v1/doctors/{id}/position`. */
export function openApiPathOf(pattern: string): string {
  return pattern.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parametersOf(meta: RouteMeta, pattern: string): JsonSchema[] {
  const parameters: JsonSchema[] = [];
  const add = (where: 'path' | 'query', schema: z.ZodType) => {
    const json = jsonSchemaOf(schema);
    const properties = (json['properties'] ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json['required'] ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      const { description, ...rest } = property;
      parameters.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        schema: rest,
        ...(typeof description === 'string' ? { description } : {}),
      });
    }
  };
  if (meta.params) add('path', meta.params);
  else {
    // A pattern parameter without a schema is still a required string.
    for (const match of pattern.matchAll(/:([A-Za-z0-9_]+)/g)) {
      parameters.push({ name: match[1], in: 'path', required: true, schema: { type: 'string' } });
    }
  }
  if (meta.query) add('query', meta.query);
  return parameters;
}

function operationOf(route: RouteDescription & { meta: RouteMeta }): JsonSchema {
  const { meta } = route;
  const problem = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
  const success: JsonSchema = { description: meta.response.description };
  if (meta.response.status !== 204) {
    success['content'] = {
      [meta.response.contentType ?? 'application/json']: {
        schema: meta.response.schema ? outputSchemaOf(meta.response.schema) : {},
      },
    };
  }
  const operation: JsonSchema = {
    operationId: `${route.method.toLowerCase()}${route.pattern
      .split(/[/:]/)
      .filter((part) => part !== '')
      .map((part) => part[0]!.toUpperCase() + part.slice(1))
      .join('')}`,
    summary: meta.summary,
    ...(meta.description ? { description: meta.description } : {}),
    tags: meta.tags,
    parameters: parametersOf(meta, route.pattern),
    responses: {
      [String(meta.response.status)]: success,
      '4XX': { description: 'the request was refused; `code` says why', content: problem },
      '5XX': { description: 'the server or a service it needs failed', content: problem },
    },
  };
  if (meta.body || meta.bodyTypes) {
    const content: JsonSchema = {};
    if (meta.body) content['application/json'] = { schema: jsonSchemaOf(meta.body) };
    for (const type of meta.bodyTypes ?? []) content[type] = { schema: { type: 'object' } };
    operation['requestBody'] = { required: meta.body !== undefined && !meta.bodyTypes, content };
  }
  if (meta.auth) operation['security'] = [{ bearer: [] }];
  return operation;
}

/**
 * The OpenAPI 3.1 document of every route of `router` that has metadata, generated from the routes' zod schemas.
 * Routes without metadata are left out (a unit test makes sure the application has none).
 */
export function openApiDocumentOf(router: Router, info: OpenApiInfo): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of router.describe()) {
    if (!route.meta) continue;
    const path = openApiPathOf(route.pattern);
    (paths[path] ??= {})[route.method.toLowerCase()] = operationOf({ ...route, meta: route.meta });
  }
  return {
    openapi: '3.1.0',
    info,
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: { Problem: outputSchemaOf(problemSchema) },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
  };
}

/**
 * GET /openapi.json: the document of {@link openApiDocumentOf}, built on the first request (after every route is
 * registered) and kept.
 */
export function addOpenApiRoute(router: Router, info: OpenApiInfo): void {
  let document: JsonSchema | undefined;
  router.get(
    '/openapi.json',
    () => {
      document ??= openApiDocumentOf(router, info);
      return { status: 200, headers: { 'content-type': 'application/json' }, body: document };
    },
    {
      summary: 'This OpenAPI 3.1 document',
      tags: ['meta'],
      response: { status: 200, description: 'the OpenAPI 3.1 document of the HTTP API' },
      auth: false,
    },
  );
}
