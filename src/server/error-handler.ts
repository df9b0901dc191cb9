import type { FastifyError, FastifyInstance } from 'fastify';
import { HttpError, REASONS, errorBody, errorSchema, type ErrorDetails } from '../kernel/errors.js';

interface Described {
  status: number;
  message: string;
  details?: ErrorDetails;
}

const malformedJson = (message: string): Described => ({
  status: 400,
  message: `malformed JSON body: ${message}`,
  details: { reason: REASONS.malformedJson },
});

/** Status, message and reason for an error fastify raised (or anything else a handler let escape). */
function describe(err: FastifyError): Described {
  if (err.validation) return { status: 400, message: `invalid request: ${err.message}`, details: { reason: REASONS.invalidRequest } };
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: 'request body exceeds the 10 MB limit' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return malformedJson(err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: err.message };
  }
  if (err instanceof SyntaxError) return malformedJson(err.message);
  const status = err.statusCode ?? 500;
  return { status, message: status >= 500 ? 'internal server error' : err.message };
}

/** The messages of errors the router raises before any route runs. */
function frameworkMessage(err: FastifyError): string {
  if (err.code === 'FST_ERR_BAD_URL') return 'malformed URL: invalid percent-encoding in the path';
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return 'a path segment is too long';
  return err.message;
}

/**
 * The answer to an error the router raises before any route runs (a malformed %-escape, an
 * over-long path segment): passed to fastify as its `frameworkErrors` option, so these get
 * the same body as everything else.
 */
export function frameworkErrorBody(err: FastifyError): { status: number; body: ReturnType<typeof errorBody> } {
  const status = err.statusCode ?? 400;
  return { status, body: errorBody(status, frameworkMessage(err)) };
}

/**
 * Turns every failure into Koor's error body (`errorBody`): typed HttpErrors from handlers,
 * schema violations, framework errors (body too large, malformed JSON), unknown routes,
 * database failures (named: 507 for a full disk, 503 otherwise), and anything unexpected
 * (logged, answered as a plain 500 without internals).
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.addSchema(errorSchema);

  // A request that arrives while the app closes (on a kept-alive connection) is refused in
  // the usual body; fastify's own 503 (return503OnClosing, turned off in app.ts) has another.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Callback style: the hot path passes through without allocating a promise.
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('connection', 'close');
    done(new HttpError(503, 'server is shutting down', { reason: REASONS.shuttingDown }));
  });

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    // RFC 6750: a 401 names the scheme it wants, so clients (MCP ones included) know a bearer
    // token is asked for rather than guessing at OAuth.
    if ((err instanceof HttpError ? err.status : (err as FastifyError).statusCode) === 401) reply.header('www-authenticate', 'Bearer realm="koor"');
    if (err instanceof HttpError) {
      reply.status(err.status).send(err.body());
      return;
    }
    // A database that cannot write (disk full: 507) or cannot be reached (503) is named, and
    // /health reports it until writes succeed again.
    const trouble = app.koor.db.health.noticed(err);
    if (trouble) {
      request.log.error({ err, url: request.url }, trouble.message);
      reply.status(trouble.status).send(errorBody(trouble.status, trouble.message, { reason: trouble.reason }));
      return;
    }
    const { status, message, details } = describe(err as FastifyError);
    if (status >= 500) request.log.error({ err, url: request.url }, 'request failed');
    reply.status(status).send(errorBody(status, message, details));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    reply.status(404).send(errorBody(404, `no route for ${request.method} ${path}`, { reason: REASONS.noRoute }));
  });
}
