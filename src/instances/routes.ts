import type { FastifyInstance } from 'fastify';
import {
  activateInstance,
  deregisterInstance,
  getInstance,
  heartbeat,
  INSTANCE_ACTIONS,
  listInstances,
  listStaleInstances,
  registerInstance,
  setCapabilities,
  setIntent,
} from './instances.js';
import { capabilitiesSchema, instanceFilter, instanceSchema, intentBody, registerBody, registeredInstanceSchema } from './schemas.js';
import { KoorErrorRef, Type, typedRoutes } from '../kernel/schema.js';

const tags = ['instances'];
const error = KoorErrorRef;

const idParams = Type.Object({ id: Type.String({ minLength: 1 }) });

/** HTTP routes of the instance registry (SPEC §7). */
export default async function instancesRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const api = typedRoutes(app);

  api.post('/api/instances/register', {
    config: { permission: 'admin', act: 'register instances', auditAction: INSTANCE_ACTIONS.register },
    schema: {
      tags,
      summary: 'Register an agent instance; the answer carries its token, shown only here',
      body: registerBody,
      response: {
        200: registeredInstanceSchema,
        400: error,
        403: error,
      },
    },
  }, async (request) => registerInstance(ctx, request.body, request.actor));

  api.get('/api/instances', {
    config: { permission: 'read' },
    schema: {
      tags,
      summary: 'List instances, optionally filtered',
      querystring: instanceFilter,
      response: { 200: Type.Array(instanceSchema) },
    },
  }, async (request) => listInstances(ctx, request.query));

  api.get('/api/instances/stale', {
    config: { permission: 'read' },
    schema: { tags, summary: 'List stale instances', response: { 200: Type.Array(instanceSchema) } },
  }, async () => listStaleInstances(ctx));

  api.get('/api/instances/:id', {
    config: { permission: 'read' },
    schema: { tags, summary: 'Get one instance', params: idParams, response: { 200: instanceSchema, 404: error } },
  }, async (request) => getInstance(ctx, request.params.id));

  const idStatus = Type.Object({ id: Type.String(), status: Type.String() });

  api.post('/api/instances/:id/heartbeat', {
    config: { permission: 'own-instance', act: 'send a heartbeat for', auditAction: INSTANCE_ACTIONS.heartbeat },
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

  api.post('/api/instances/:id/activate', {
    config: { permission: 'own-instance', act: 'activate', auditAction: INSTANCE_ACTIONS.activate },
    schema: { tags, summary: 'Mark an instance active', params: idParams, response: { 200: idStatus, 404: error } },
  }, async (request) => {
    const instance = await activateInstance(ctx, request.params.id, request.actor);
    return { id: instance.id, status: instance.status };
  });

  api.post('/api/instances/:id/intent', {
    config: { permission: 'own-instance', act: 'set the intent of', auditAction: INSTANCE_ACTIONS.intent },
    schema: {
      tags,
      summary: 'Set what an instance is working on now (also a sign of life), as MCP set_intent does',
      params: idParams,
      body: intentBody,
      response: {
        200: Type.Object({ id: Type.String(), intent: Type.String(), status: Type.String() }),
        400: error,
        404: error,
      },
    },
  }, async (request) => {
    const instance = await setIntent(ctx, request.params.id, request.body.intent, request.actor);
    return { id: instance.id, intent: instance.intent, status: instance.status };
  });

  api.post('/api/instances/:id/capabilities', {
    config: { permission: 'own-instance', act: 'set the capabilities of', auditAction: INSTANCE_ACTIONS.capabilities },
    schema: {
      tags,
      summary: "Replace an instance's capability list",
      params: idParams,
      body: Type.Object({ capabilities: capabilitiesSchema }),
      response: {
        200: Type.Object({ id: Type.String(), capabilities: Type.Array(Type.String()) }),
        400: error,
        404: error,
      },
    },
  }, async (request) => {
    const instance = await setCapabilities(ctx, request.params.id, request.body.capabilities, request.actor);
    return { id: instance.id, capabilities: instance.capabilities };
  });

  api.delete('/api/instances/:id', {
    config: { permission: 'own-instance', act: 'deregister', auditAction: INSTANCE_ACTIONS.deregister },
    schema: {
      tags,
      summary: 'Deregister an instance; its token stops working at once',
      params: idParams,
      response: { 200: Type.Object({ deleted: Type.String() }), 404: error },
    },
  }, async (request) => {
    const instance = await deregisterInstance(ctx, request.params.id, request.actor);
    return { deleted: instance.id };
  });
}
