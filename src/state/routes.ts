import type { FastifyInstance } from 'fastify';
import { KoorErrorRef, StringEnum, Type, typedRoutes } from '../kernel/schema.js';
import { badRequest, notFound } from '../kernel/errors.js';
import {
  DEFAULT_CONTENT_TYPE,
  DEFAULT_HISTORY_LIMIT,
  STATE_ACTIONS,
  deleteState,
  diffState,
  getState,
  listState,
  putState,
  rollbackState,
  stateAtVersion,
  stateHistory,
} from './state.js';
import { writePrecondition } from '../mvcc/preconditions.js';
import { leaseFence } from '../leases/fencing.js';
import {
  acceptRawBodies,
  bodyContentType,
  conditionalHeaders,
  ifMatchHeader,
  preconditionFailedResponse,
  rawBody,
  rawValueResponse,
  sendJson,
  sendRawValue,
  setWrittenHeaders,
} from '../mvcc/http.js';

const keyParams = Type.Object({ '*': Type.String({ description: 'The key; may contain /' }) });

const writeResult = Type.Object({
  key: Type.String(),
  version: Type.Integer(),
  hash: Type.String(),
  content_type: Type.String(),
  updated_at: Type.String(),
});

const preconditionFailed = preconditionFailedResponse('key');

/** HTTP routes of the state store (SPEC §3). Values are raw bytes of any content type. */
export default async function stateRoutes(app: FastifyInstance): Promise<void> {
  acceptRawBodies(app);
  const ctx = app.koor;
  const api = typedRoutes(app);

  api.get('/api/state', {
    config: { permission: 'read' },
    schema: {
      tags: ['state'],
      summary: 'List keys, sorted; ?prefix= filters',
      querystring: Type.Object({ prefix: Type.Optional(Type.String()) }),
      response: {
        200: Type.Array(Type.Object({ key: Type.String(), version: Type.Integer(), content_type: Type.String(), updated_at: Type.String() })),
      },
    },
  }, async (request) => listState(ctx, request.query.prefix ?? ''));

  api.get('/api/state/*', {
    config: { permission: 'read' },
    schema: {
      tags: ['state'],
      summary: 'Read a value (raw), or its history (?history=1&limit=N), an old version (?version=N) or a JSON diff (?diff=A,B)',
      params: keyParams,
      querystring: Type.Object({
        history: Type.Optional(StringEnum(['1', 'true'])),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_HISTORY_LIMIT })),
        version: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
        diff: Type.Optional(Type.String({ pattern: '^[0-9]+,[0-9]+$', description: 'Two versions: A,B' })),
      }),
      response: {
        200: rawValueResponse,
        304: { description: 'If-None-Match names the current ETag', type: 'null' },
        404: KoorErrorRef,
      },
    },
  }, async (request, reply) => {
    const key = request.params['*'];
    const { history, version, diff } = request.query;
    const asked = [history, version, diff].filter((v) => v !== undefined).length;
    if (asked > 1) throw badRequest('use only one of history, version and diff');

    if (history !== undefined) return sendJson(reply, await stateHistory(ctx, key, request.query.limit));
    if (diff !== undefined) {
      const [a, b] = diff.split(',').map(Number) as [number, number];
      if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 1 || b < 1) throw badRequest(`invalid diff "${diff}": expected two versions A,B (whole numbers from 1)`);
      return sendJson(reply, await diffState(ctx, key, a, b));
    }
    const value = version !== undefined ? await stateAtVersion(ctx, key, version) : await getState(ctx, key);
    if (!value) throw notFound('state key', key);
    return sendRawValue(request, reply, { data: value.data, contentType: value.content_type, etag: value.etag, version: String(value.version) });
  });

  api.put('/api/state/*', {
    config: { permission: 'write', act: 'write state', auditAction: STATE_ACTIONS.put },
    schema: {
      tags: ['state'],
      summary: 'Store a new version (raw body, any content type, default application/json); If-Match / If-None-Match: * make it conditional',
      // Stored as sent, with its content type: any type is a value (README "Browser safety").
      consumes: ['*/*'],
      params: keyParams,
      headers: conditionalHeaders,
      response: {
        200: writeResult,
        400: KoorErrorRef,
        412: preconditionFailed,
        413: KoorErrorRef,
      },
    },
  }, async (request, reply) => {
    const precondition = writePrecondition(request.headers);
    const result = await putState(
      ctx,
      { key: request.params['*'], data: rawBody(request), contentType: bodyContentType(request, DEFAULT_CONTENT_TYPE) },
      request.actor,
      precondition,
      leaseFence(ctx, request.headers, request.actor),
    );
    setWrittenHeaders(reply, result);
    return result;
  });

  api.post('/api/state/*', {
    config: { permission: 'write', act: 'roll back state', auditAction: STATE_ACTIONS.rollback },
    schema: {
      tags: ['state'],
      summary: 'Restore version N (?rollback=N) as a new version',
      params: keyParams,
      querystring: Type.Object({ rollback: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The version to restore' }) }),
      headers: ifMatchHeader,
      response: {
        200: Type.Object({ key: Type.String(), version: Type.Integer(), hash: Type.String(), rolled_back: Type.Integer(), updated_at: Type.String() }),
        404: KoorErrorRef,
        412: preconditionFailed,
      },
    },
  }, async (request, reply) => {
    const precondition = writePrecondition(request.headers, false);
    const fence = leaseFence(ctx, request.headers, request.actor);
    const result = await rollbackState(ctx, request.params['*'], request.query.rollback, request.actor, precondition, fence);
    setWrittenHeaders(reply, result);
    return result;
  });

  api.delete('/api/state/*', {
    config: { permission: 'write', act: 'delete state', auditAction: STATE_ACTIONS.delete },
    schema: {
      tags: ['state'],
      summary: 'Delete a key (its history stays; a re-created key continues its version numbers)',
      params: keyParams,
      headers: ifMatchHeader,
      response: {
        200: Type.Object({ deleted: Type.String() }),
        404: KoorErrorRef,
        412: preconditionFailed,
      },
    },
  }, async (request) => {
    const precondition = writePrecondition(request.headers, false);
    const { deleted } = await deleteState(ctx, request.params['*'], request.actor, precondition, leaseFence(ctx, request.headers, request.actor));
    return { deleted };
  });
}
