import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { etagMatches, etagOf } from './preconditions.js';
import { Type } from '../kernel/schema.js';

/**
 * Makes an encapsulated plugin take every request body as raw bytes, whatever its content
 * type (application/json included): stored values are opaque and must be kept byte for byte.
 */
export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
}

/** The raw request body, or an empty buffer when there was none. */
export function rawBody(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

/** The content type a write stores: the request's, or application/json when it sent none. */
export function bodyContentType(request: FastifyRequest, fallback: string): string {
  const header = request.headers['content-type'];
  return typeof header === 'string' && header.trim() !== '' ? header.trim() : fallback;
}

export interface RawValue {
  data: Buffer;
  contentType: string;
  etag: string;
  version: string;
}

/** Sends a stored value byte for byte with its ETag and version, or 304 when the client has it. */
export function sendRawValue(request: FastifyRequest, reply: FastifyReply, value: RawValue): FastifyReply {
  reply.header('etag', value.etag).header('x-koor-version', value.version);
  if (etagMatches(request.headers['if-none-match'], value.etag)) return reply.code(304).send();
  return reply.header('content-type', value.contentType).send(value.data);
}

/** The headers of a write's answer: the new version's ETag and number. */
export function setWrittenHeaders(reply: FastifyReply, written: { hash: string; version: number }): void {
  reply.header('etag', etagOf(written.hash)).header('x-koor-version', String(written.version));
}

/** Sends an already-built JSON document (for answers whose shape depends on the query). */
export function sendJson(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(body));
}

/** Header schema shared by conditional writes, for validation and the OpenAPI document. */
export const conditionalHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'Write only if the current ETag ("<sha256>") or version (a number) matches; * = must exist' })),
  'if-none-match': Type.Optional(Type.String({ description: '* = create only (fail with 412 if the key exists)' })),
  'x-koor-lease': Type.Optional(Type.String({ description: 'Write only while the caller holds this lease (fencing); 412 lease_not_held otherwise' })),
});

/** Header schema of writes that take only If-Match (delete, rollback). */
export const ifMatchHeader = Type.Pick(conditionalHeaders, ['if-match', 'x-koor-lease']);

/** The 412 answer of a conditional write, for the OpenAPI document; `noun` names the thing (key, spec). */
export function preconditionFailedResponse(noun: string) {
  return {
    description: `If-Match / If-None-Match did not hold: {error, code, current_version, current_etag} (both null when the ${noun} does not exist)`,
    $ref: 'KoorError#',
  } as const;
}

export const rawValueResponse = {
  description: 'The raw stored bytes, with headers Content-Type, ETag and X-Koor-Version',
  content: { '*/*': { schema: { type: 'string', format: 'binary' } } },
} as const;
