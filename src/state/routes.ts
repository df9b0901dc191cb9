import type { FastifyInstance } from 'fastify';
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

const keyParams = {
  type: 'object',
  properties: { '*': { type: 'string', description: 'The key; may contain /' } },
  required: ['*'],
} as const;

const writeResult = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    version: { type: 'integer' },
    hash: { type: 'string' },
    content_type: { type: 'string' },
    updated_at: { type: 'string' },
  },
  required: ['key', 'version', 'hash', 'content_type', 'updated_at'],
} as const;

const preconditionFailed = preconditionFailedResponse('key');

interface KeyParams {
  '*': string;
}

interface ReadQuery {
  history?: string;
  limit?: number;
  version?: number;
  diff?: string;
}

/** HTTP routes of the state store (SPEC §3). Values are raw bytes of any content type. */
export default async function stateRoutes(app: FastifyInstance): Promise<void> {
  acceptRawBodies(app);
  const ctx = app.koor;

  app.get<{ Querystring: { prefix?: string } }>('/api/state', {
    schema: {
      tags: ['state'],
      summary: 'List keys, sorted; ?prefix= filters',
      querystring: { type: 'object', properties: { prefix: { type: 'string' } } },
      response: {
        200: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              key: { type: 'string' },
              version: { type: 'integer' },
              content_type: { type: 'string' },
              updated_at: { type: 'string' },
            },
            required: ['key', 'version', 'content_type', 'updated_at'],
          },
        },
      },
    },
  }, async (request) => listState(ctx, request.query.prefix ?? ''));

  app.get<{ Params: KeyParams; Querystring: ReadQuery }>('/api/state/*', {
    schema: {
      tags: ['state'],
      summary: 'Read a value (raw), or its history (?history=1&limit=N), an old version (?version=N) or a JSON diff (?diff=A,B)',
      params: keyParams,
      querystring: {
        type: 'object',
        properties: {
          history: { type: 'string', enum: ['1', 'true'] },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: DEFAULT_HISTORY_LIMIT },
          version: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
          diff: { type: 'string', pattern: '^[0-9]+,[0-9]+$', description: 'Two versions: A,B' },
        },
      },
      response: {
        200: rawValueResponse,
        304: { description: 'If-None-Match names the current ETag', type: 'null' },
        404: { $ref: 'KoorError#' },
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

  app.put<{ Params: KeyParams }>('/api/state/*', {
    config: { auditAction: STATE_ACTIONS.put },
    schema: {
      tags: ['state'],
      summary: 'Store a new version (raw body, any content type, default application/json); If-Match / If-None-Match: * make it conditional',
      params: keyParams,
      headers: conditionalHeaders,
      response: {
        200: writeResult,
        400: { $ref: 'KoorError#' },
        412: preconditionFailed,
        413: { $ref: 'KoorError#' },
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

  app.post<{ Params: KeyParams; Querystring: { rollback: number } }>('/api/state/*', {
    config: { auditAction: STATE_ACTIONS.rollback },
    schema: {
      tags: ['state'],
      summary: 'Restore version N (?rollback=N) as a new version',
      params: keyParams,
      querystring: {
        type: 'object',
        properties: { rollback: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'The version to restore' } },
        required: ['rollback'],
      },
      headers: ifMatchHeader,
      response: {
        200: {
          type: 'object',
          properties: {
            key: { type: 'string' },
            version: { type: 'integer' },
            hash: { type: 'string' },
            rolled_back: { type: 'integer' },
            updated_at: { type: 'string' },
          },
          required: ['key', 'version', 'hash', 'rolled_back', 'updated_at'],
        },
        404: { $ref: 'KoorError#' },
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

  app.delete<{ Params: KeyParams }>('/api/state/*', {
    config: { auditAction: STATE_ACTIONS.delete },
    schema: {
      tags: ['state'],
      summary: 'Delete a key (its history stays; a re-created key continues its version numbers)',
      params: keyParams,
      headers: ifMatchHeader,
      response: {
        200: { type: 'object', properties: { deleted: { type: 'string' } }, required: ['deleted'] },
        404: { $ref: 'KoorError#' },
        412: preconditionFailed,
      },
    },
  }, async (request) => {
    const precondition = writePrecondition(request.headers, false);
    const { deleted } = await deleteState(ctx, request.params['*'], request.actor, precondition, leaseFence(ctx, request.headers, request.actor));
    return { deleted };
  });
}
