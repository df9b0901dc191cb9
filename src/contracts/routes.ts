import type { FastifyInstance } from 'fastify';
import { testContractEndpoint, validateContractPayload } from './contracts.js';
import { contractParams as params, liveTestBody, liveTestSchema, payloadCheckSchema, validateBody } from './schemas.js';
import { KoorErrorRef, typedRoutes } from '../kernel/schema.js';

// 422: the check ran past the work budget (--work-budget).
const errors = { 400: KoorErrorRef, 404: KoorErrorRef, 422: KoorErrorRef };

/** HTTP routes of the contracts domain: payload validation and live contract tests. */
export default async function contractsRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const api = typedRoutes(app);

  api.post(
    '/api/contracts/:project/:name/validate',
    {
      config: { permission: 'write', act: 'validate contracts' },
      schema: {
        tags: ['contracts'],
        summary: 'Check a payload against one endpoint and direction of a contract',
        params,
        body: validateBody,
        response: {
          200: payloadCheckSchema,
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

  api.post(
    '/api/contracts/:project/:name/test',
    {
      config: { permission: 'write', act: 'test contracts' },
      schema: {
        tags: ['contracts'],
        summary: 'Call a live service for one endpoint (10 s timeout) and check its status and body',
        params,
        body: liveTestBody,
        response: {
          200: liveTestSchema,
          ...errors,
        },
      },
    },
    async (request) => testContractEndpoint(ctx, request.params.project, request.params.name, request.body),
  );
}
