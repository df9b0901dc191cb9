import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import replyFrom from '@fastify/reply-from';
import webSocketSupport from '../kernel/websockets.js';
import { REASONS, badRequest, errorBody } from '../kernel/errors.js';
import { SUBSCRIBE_PATH } from '../events/websocket.js';
import { eventStreamRelay } from './relay.js';

const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];
/** Headers about the API's connection to the dashboard, not about the answer: never passed back. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

function withoutHopByHop<T extends Record<string, unknown>>(headers: T): T {
  const kept = { ...headers };
  for (const name of HOP_BY_HOP) delete kept[name];
  return kept;
}

function withoutOrigin<T extends Record<string, unknown>>(headers: T): T {
  const { origin: _origin, ...kept } = headers;
  return kept as T;
}

/**
 * The path (and query) to ask the API for: the browser's own, once it is known to be an API
 * path. The router only sends `/api…` and `/health` here; checking again keeps a request that
 * names another host (`//host/…`, `http://host/…`) from ever becoming a destination.
 */
function apiPath(request: FastifyRequest): string {
  const url = request.url;
  if (/^\/(api|health)(\/|\?|$)/.test(url) && !url.startsWith('//')) return url;
  throw badRequest(`the dashboard forwards only /api/* and /health, not ${url.split('?')[0]}`);
}

/**
 * `/api/*` and `/health` forwarded to the API, whose origin is fixed when the dashboard
 * starts (@fastify/reply-from, with `base` as the only upstream): method, path, query, headers
 * (Authorization and If-Match included) and body go through unchanged and the answer streams
 * back, so the browser talks to one origin. The event stream's WebSocket is relayed to the
 * API's; its Server-Sent Events form is forwarded like any GET.
 */
export async function apiProxy(app: FastifyInstance, apiUrl: URL): Promise<void> {
  await app.register(webSocketSupport, { goingAway: 'dashboard shutting down' });
  await app.register(replyFrom, {
    base: apiUrl.origin,
    // A live stream may stay quiet for a while: the API sends SSE heartbeats, never a timeout.
    undici: { bodyTimeout: 0 },
  });

  // Bodies go to the API as they came: the API parses and judges them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  const forward = (request: FastifyRequest, reply: FastifyReply) =>
    reply.from(apiPath(request), {
      // The dashboard has judged the browser's Origin (browser-safety.ts); from here on the
      // request is its own, like its relayed WebSocket, which carries none either.
      rewriteRequestHeaders: (_request, headers) => withoutOrigin(headers),
      rewriteHeaders: withoutHopByHop,
      onError: (answer, { error }) => {
        const message = `dashboard cannot reach the API at ${apiUrl.origin}: ${error.message}`;
        answer.code(502).send(errorBody(502, message, { reason: REASONS.apiUnreachable }));
      },
    });

  for (const url of ['/api', '/api/*', '/health']) app.route({ method: METHODS, url, handler: forward });
  app.route({ method: 'GET', url: SUBSCRIBE_PATH, handler: forward, wsHandler: eventStreamRelay(apiUrl) });
}
