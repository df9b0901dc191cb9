import type { FastifyInstance } from 'fastify';
import { testContractEndpoint, validateContractPayload } from './contracts.js';
import { DIRECTIONS } from './payload.js';
import { MAX_CONTRACT_VIOLATIONS } from './validate.js';

const params = {
  type: 'object',
  properties: { project: { type: 'string', minLength: 1, maxLength: 256 }, name: { type: 'string', minLength: 1, maxLength: 256 } },
  required: ['project', 'name'],
} as const;

const violationList = {
  type: 'array',
  items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
} as const;

const errors = { 400: { $ref: 'KoorError#' }, 404: { $ref: 'KoorError#' } };

/** HTTP routes of the contracts domain: payload validation and live contract tests. */
export default async function contractsRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;

  app.post<{ Params: { project: string; name: string }; Body: { endpoint: string; direction?: string; payload?: unknown } }>(
    '/api/contracts/:project/:name/validate',
    {
      schema: {
        tags: ['contracts'],
        summary: 'Check a payload against one endpoint and direction of a contract',
        params,
        body: {
          type: 'object',
          required: ['endpoint'],
          properties: {
            endpoint: { type: 'string', minLength: 1 },
            direction: { type: 'string', enum: [...DIRECTIONS] },
            payload: {},
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              valid: { type: 'boolean' },
              violations: violationList,
              truncated: { type: 'boolean', description: `Present (true) when only the first ${MAX_CONTRACT_VIOLATIONS} violations are listed` },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const { project, name } = request.params;
      return validateContractPayload(ctx, project, name, {
        endpoint: request.body.endpoint,
        direction: request.body.direction,
        payload: request.body.payload ?? null,
      });
    },
  );

  app.post<{ Params: { project: string; name: string }; Body: { endpoint: string; base_url: string; test_data?: Record<string, unknown> } }>(
    '/api/contracts/:project/:name/test',
    {
      schema: {
        tags: ['contracts'],
        summary: 'Call a live service for one endpoint (10 s timeout) and check its status and body',
        params,
        body: {
          type: 'object',
          required: ['endpoint', 'base_url'],
          properties: {
            endpoint: { type: 'string', minLength: 1 },
            base_url: { type: 'string', minLength: 1 },
            test_data: { type: 'object', additionalProperties: true },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              valid: { type: 'boolean' },
              endpoint: { type: 'string' },
              status_code: { type: 'integer' },
              request_violations: violationList,
              response_violations: violationList,
              error: { type: 'string' },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => testContractEndpoint(ctx, request.params.project, request.params.name, request.body),
  );
}
