import type { FastifyError, FastifyInstance } from 'fastify';
import { HttpError } from '../kernel/errors.js';

/** The body of every failure, referenced by route schemas as `{ $ref: 'KoorError#' }`. */
export const errorSchema = {
  $id: 'KoorError',
  type: 'object',
  properties: { error: { type: 'string' }, code: { type: 'integer' } },
  required: ['error', 'code'],
  additionalProperties: true,
} as const;

function messageFor(err: FastifyError): { status: number; message: string } {
  if (err.validation) {
    return { status: 400, message: `invalid request: ${err.message}` };
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: 'request body exceeds the 10 MB limit' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, message: `malformed JSON body: ${err.message}` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: err.message };
  }
  if (err instanceof SyntaxError) return { status: 400, message: `malformed JSON body: ${err.message}` };
  const status = err.statusCode ?? 500;
  return { status, message: status >= 500 ? 'internal server error' : err.message };
}

/**
 * Turns every failure into `{error, code}`: typed HttpErrors from handlers, schema violations,
 * framework errors (body too large, malformed JSON), unknown routes, and anything unexpected
 * (logged, answered as a plain 500 without internals).
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.addSchema(errorSchema);

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    if (err instanceof HttpError) {
      reply.status(err.status).send({ error: err.message, code: err.status, ...err.extra });
      return;
    }
    const { status, message } = messageFor(err as FastifyError);
    if (status >= 500) request.log.error({ err, url: request.url }, 'request failed');
    reply.status(status).send({ error: message, code: status });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: `no route for ${request.method} ${request.url.split('?')[0]}`, code: 404 });
  });
}
