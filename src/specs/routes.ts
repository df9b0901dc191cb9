import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../kernel/errors.js';
import { KoorErrorRef, StringEnum, Type, typedRoutes } from '../kernel/schema.js';
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

const projectParams = Type.Object({ project: Type.String() });

const specParams = Type.Object({ project: Type.String(), name: Type.String() });

const preconditionFailed = preconditionFailedResponse('spec');

/** HTTP routes of the spec registry (SPEC §4): per-project named documents, versioned like state. */
export default async function specsRoutes(app: FastifyInstance): Promise<void> {
  acceptRawBodies(app);
  const ctx = app.koor;
  const api = typedRoutes(app);

  api.get('/api/specs/:project', {
    config: { permission: 'read' },
    schema: {
      tags: ['specs'],
      summary: "List a project's specs, sorted by name",
      params: projectParams,
      response: {
        200: Type.Object({
          project: Type.String(),
          specs: Type.Array(Type.Object({ name: Type.String(), version: Type.Integer(), updated_at: Type.String() })),
        }),
      },
    },
  }, async (request) => ({ project: request.params.project, specs: await listSpecs(ctx, request.params.project) }));

  api.get('/api/specs/:project/:name', {
    config: { permission: 'read' },
    schema: {
      tags: ['specs'],
      summary: 'Read a spec (raw), an old version (?version=N) or its history (?history=1&limit=N)',
      params: specParams,
      querystring: Type.Object({
        history: Type.Optional(StringEnum(['1', 'true'])),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
        version: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
      }),
      response: {
        200: rawValueResponse,
        304: { description: 'If-None-Match names the current ETag', type: 'null' },
        404: KoorErrorRef,
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

  api.put('/api/specs/:project/:name', {
    config: { permission: 'write', act: 'write specs', auditAction: SPEC_ACTIONS.put },
    schema: {
      tags: ['specs'],
      summary: 'Store a new version of a spec (raw body); a JSON document with "kind":"contract" must be a valid contract',
      // Stored as sent, with its content type: any type is a spec (README "Browser safety").
      consumes: ['*/*'],
      params: specParams,
      headers: conditionalHeaders,
      response: {
        200: Type.Object({ project: Type.String(), name: Type.String(), version: Type.Integer(), hash: Type.String(), updated_at: Type.String() }),
        400: KoorErrorRef,
        412: preconditionFailed,
        413: KoorErrorRef,
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

  api.delete('/api/specs/:project/:name', {
    config: { permission: 'write', act: 'delete specs', auditAction: SPEC_ACTIONS.delete },
    schema: {
      tags: ['specs'],
      summary: 'Delete a spec (its history stays; a re-created spec continues its version numbers)',
      params: specParams,
      headers: ifMatchHeader,
      response: {
        200: Type.Object({ deleted: Type.String() }),
        404: KoorErrorRef,
        412: preconditionFailed,
      },
    },
  }, async (request) => {
    const { project, name } = request.params;
    return deleteSpec(ctx, project, name, request.actor, writePrecondition(request.headers, false), leaseFence(ctx, request.headers, request.actor));
  });
}
