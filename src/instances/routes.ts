import type { FastifyInstance } from 'fastify';
import {
  activateInstance,
  deregisterInstance,
  getInstance,
  heartbeat,
  INSTANCE_ACTIONS,
  INSTANCE_STATUSES,
  LIMITS,
  listInstances,
  listStaleInstances,
  registerInstance,
  setCapabilities,
  setIntent,
  type InstanceFilter,
  type RegisterInput,
} from './instances.js';

const tags = ['instances'];
const error = { $ref: 'KoorError#' };

const capabilitiesSchema = { type: 'array', items: { type: 'string' }, maxItems: LIMITS.capabilities } as const;

export const instanceSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    workspace: { type: 'string' },
    intent: { type: 'string' },
    stack: { type: 'string' },
    capabilities: { type: 'array', items: { type: 'string' } },
    status: { type: 'string', enum: [...INSTANCE_STATUSES] },
    registered_at: { type: 'string', format: 'date-time' },
    last_seen: { type: 'string', format: 'date-time' },
    base_url: { type: 'string' },
  },
  required: ['id', 'name', 'workspace', 'intent', 'stack', 'capabilities', 'status', 'registered_at', 'last_seen', 'base_url'],
} as const;

const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1 } }, required: ['id'] } as const;

/** HTTP routes of the instance registry (SPEC §7). */
export default async function instancesRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;

  app.post<{ Body: RegisterInput }>('/api/instances/register', {
    config: { auditAction: INSTANCE_ACTIONS.register },
    schema: {
      tags,
      summary: 'Register an agent instance; the answer carries its token, shown only here',
      body: {
        type: 'object',
        properties: {
          name: { type: 'string', maxLength: LIMITS.name },
          workspace: { type: 'string', maxLength: LIMITS.workspace },
          intent: { type: 'string', maxLength: LIMITS.intent },
          stack: { type: 'string', maxLength: LIMITS.stack },
          capabilities: capabilitiesSchema,
          base_url: { type: 'string', maxLength: LIMITS.baseUrl, description: 'http(s) URL of the agent\'s running service' },
        },
        required: ['name'],
      },
      response: {
        200: {
          ...instanceSchema,
          properties: { ...instanceSchema.properties, token: { type: 'string', description: 'the instance token; store it, it is never shown again' } },
          required: [...instanceSchema.required, 'token'],
        },
        400: error,
        403: error,
      },
    },
  }, async (request) => registerInstance(ctx, request.body, request.actor));

  app.get<{ Querystring: InstanceFilter }>('/api/instances', {
    schema: {
      tags,
      summary: 'List instances, optionally filtered',
      querystring: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          workspace: { type: 'string' },
          stack: { type: 'string' },
          capability: { type: 'string' },
          status: { type: 'string', enum: [...INSTANCE_STATUSES] },
        },
      },
      response: { 200: { type: 'array', items: instanceSchema } },
    },
  }, async (request) => listInstances(ctx, request.query));

  app.get('/api/instances/stale', {
    schema: { tags, summary: 'List stale instances', response: { 200: { type: 'array', items: instanceSchema } } },
  }, async () => listStaleInstances(ctx));

  app.get<{ Params: { id: string } }>('/api/instances/:id', {
    schema: { tags, summary: 'Get one instance', params: idParams, response: { 200: instanceSchema, 404: error } },
  }, async (request) => getInstance(ctx, request.params.id));

  const idStatus = {
    type: 'object',
    properties: { id: { type: 'string' }, status: { type: 'string' } },
    required: ['id', 'status'],
  } as const;

  app.post<{ Params: { id: string } }>('/api/instances/:id/heartbeat', {
    config: { auditAction: INSTANCE_ACTIONS.heartbeat },
    schema: {
      tags,
      summary: 'Record a sign of life (a stale instance becomes active again)',
      params: idParams,
      response: { 200: idStatus, 404: error },
    },
  }, async (request) => {
    const instance = await heartbeat(ctx, request.params.id, request.actor);
    return { id: instance.id, status: 'ok' };
  });

  app.post<{ Params: { id: string } }>('/api/instances/:id/activate', {
    config: { auditAction: INSTANCE_ACTIONS.activate },
    schema: { tags, summary: 'Mark an instance active', params: idParams, response: { 200: idStatus, 404: error } },
  }, async (request) => {
    const instance = await activateInstance(ctx, request.params.id, request.actor);
    return { id: instance.id, status: instance.status };
  });

  app.post<{ Params: { id: string }; Body: { intent: string } }>('/api/instances/:id/intent', {
    config: { auditAction: INSTANCE_ACTIONS.intent },
    schema: {
      tags,
      summary: 'Set what an instance is working on now (also a sign of life), as MCP set_intent does',
      params: idParams,
      body: { type: 'object', properties: { intent: { type: 'string', maxLength: LIMITS.intent } }, required: ['intent'] },
      response: {
        200: { type: 'object', properties: { id: { type: 'string' }, intent: { type: 'string' }, status: { type: 'string' } }, required: ['id', 'intent', 'status'] },
        400: error,
        404: error,
      },
    },
  }, async (request) => {
    const instance = await setIntent(ctx, request.params.id, request.body.intent, request.actor);
    return { id: instance.id, intent: instance.intent, status: instance.status };
  });

  app.post<{ Params: { id: string }; Body: { capabilities: string[] } }>('/api/instances/:id/capabilities', {
    config: { auditAction: INSTANCE_ACTIONS.capabilities },
    schema: {
      tags,
      summary: "Replace an instance's capability list",
      params: idParams,
      body: { type: 'object', properties: { capabilities: capabilitiesSchema }, required: ['capabilities'] },
      response: {
        200: {
          type: 'object',
          properties: { id: { type: 'string' }, capabilities: { type: 'array', items: { type: 'string' } } },
          required: ['id', 'capabilities'],
        },
        400: error,
        404: error,
      },
    },
  }, async (request) => {
    const instance = await setCapabilities(ctx, request.params.id, request.body.capabilities, request.actor);
    return { id: instance.id, capabilities: instance.capabilities };
  });

  app.delete<{ Params: { id: string } }>('/api/instances/:id', {
    config: { auditAction: INSTANCE_ACTIONS.deregister },
    schema: {
      tags,
      summary: 'Deregister an instance; its token stops working at once',
      params: idParams,
      response: { 200: { type: 'object', properties: { deleted: { type: 'string' } }, required: ['deleted'] }, 404: error },
    },
  }, async (request) => {
    const instance = await deregisterInstance(ctx, request.params.id, request.actor);
    return { deleted: instance.id };
  });
}
