import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../kernel/errors.js';
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
import { DEFAULT_CONTENT_TYPE, SPEC_ACTIONS, deleteSpec, getSpec, listSpecs, putSpec, specAtVersion, specHistory } from './specs.js';

const projectParams = {
  type: 'object',
  properties: { project: { type: 'string' } },
  required: ['project'],
} as const;

const specParams = {
  type: 'object',
  properties: { project: { type: 'string' }, name: { type: 'string' } },
  required: ['project', 'name'],
} as const;

const preconditionFailed = preconditionFailedResponse('spec');

interface SpecParams {
  project: string;
  name: string;
}

/** HTTP routes of the spec registry (SPEC §4): per-project named documents, versioned like state. */
export default async function specsRoutes(app: FastifyInstance): Promise<void> {
  acceptRawBodies(app);
  const ctx = app.koor;

  app.get<{ Params: { project: string } }>('/api/specs/:project', {
    schema: {
      tags: ['specs'],
      summary: "List a project's specs, sorted by name",
      params: projectParams,
      response: {
        200: {
          type: 'object',
          properties: {
            project: { type: 'string' },
            specs: {
              type: 'array',
              items: {
                type: 'object',
                properties: { name: { type: 'string' }, version: { type: 'integer' }, updated_at: { type: 'string' } },
                required: ['name', 'version', 'updated_at'],
              },
            },
          },
          required: ['project', 'specs'],
        },
      },
    },
  }, async (request) => ({ project: request.params.project, specs: await listSpecs(ctx, request.params.project) }));

  app.get<{ Params: SpecParams; Querystring: { history?: string; limit?: number; version?: number } }>('/api/specs/:project/:name', {
    schema: {
      tags: ['specs'],
      summary: 'Read a spec (raw), an old version (?version=N) or its history (?history=1&limit=N)',
      params: specParams,
      querystring: {
        type: 'object',
        properties: {
          history: { type: 'string', enum: ['1', 'true'] },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
          version: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
        },
      },
      response: {
        200: rawValueResponse,
        304: { description: 'If-None-Match names the current ETag', type: 'null' },
        404: { $ref: 'KoorError#' },
      },
    },
  }, async (request, reply) => {
    const { project, name } = request.params;
    const { history, version, limit } = request.query;
    if (history !== undefined && version !== undefined) throw badRequest('use only one of history and version');
    if (history !== undefined) return sendJson(reply, await specHistory(ctx, project, name, limit));
    const spec = version !== undefined ? await specAtVersion(ctx, project, name, version) : await getSpec(ctx, project, name);
    if (!spec) throw notFound('spec', `${project}/${name}`);
    return sendRawValue(request, reply, { data: spec.data, contentType: spec.content_type, etag: spec.etag, version: String(spec.version) });
  });

  app.put<{ Params: SpecParams }>('/api/specs/:project/:name', {
    config: { auditAction: SPEC_ACTIONS.put },
    schema: {
      tags: ['specs'],
      summary: 'Store a new version of a spec (raw body); a JSON document with "kind":"contract" must be a valid contract',
      params: specParams,
      headers: conditionalHeaders,
      response: {
        200: {
          type: 'object',
          properties: {
            project: { type: 'string' },
            name: { type: 'string' },
            version: { type: 'integer' },
            hash: { type: 'string' },
            updated_at: { type: 'string' },
          },
          required: ['project', 'name', 'version', 'hash', 'updated_at'],
        },
        400: { $ref: 'KoorError#' },
        412: preconditionFailed,
        413: { $ref: 'KoorError#' },
      },
    },
  }, async (request, reply) => {
    const { project, name } = request.params;
    const precondition = writePrecondition(request.headers);
    const result = await putSpec(
      ctx,
      { project, name, data: rawBody(request), contentType: bodyContentType(request, DEFAULT_CONTENT_TYPE) },
      request.actor,
      precondition,
      leaseFence(ctx, request.headers, request.actor),
    );
    setWrittenHeaders(reply, result);
    return result;
  });

  app.delete<{ Params: SpecParams }>('/api/specs/:project/:name', {
    config: { auditAction: SPEC_ACTIONS.delete },
    schema: {
      tags: ['specs'],
      summary: 'Delete a spec (its history stays; a re-created spec continues its version numbers)',
      params: specParams,
      headers: ifMatchHeader,
      response: {
        200: { type: 'object', properties: { deleted: { type: 'string' } }, required: ['deleted'] },
        404: { $ref: 'KoorError#' },
        412: preconditionFailed,
      },
    },
  }, async (request) => {
    const { project, name } = request.params;
    return deleteSpec(ctx, project, name, request.actor, writePrecondition(request.headers, false), leaseFence(ctx, request.headers, request.actor));
  });
}
