import type { FastifyInstance } from 'fastify';
import { errorJson } from '../kernel/errors.js';
import { formatMs } from '../kernel/duration.js';

/**
 * Limits on connections that cost the server while doing nothing:
 *
 * - at most `maxConnections` open at once (Node closes the ones past it as they arrive), so
 *   thousands of idle or trickling clients cannot use up the process's file descriptors — at
 *   20 000 the server could no longer open its own database files;
 * - a request body that stops arriving for `bodyIdleMs` is answered 408 and its connection
 *   closed: a client sending a byte now and then would otherwise hold its connection for the
 *   whole request timeout (5 minutes). Only while a body is arriving: long polls and event
 *   streams, which wait on purpose, are not cut.
 */
export function limitConnections(app: FastifyInstance, limits: { maxConnections: number; bodyIdleMs: number }): void {
  app.server.maxConnections = limits.maxConnections;

  app.addHook('onRequest', (request, _reply, done) => {
    const raw = request.raw;
    const hasBody = raw.headers['transfer-encoding'] !== undefined || Number(raw.headers['content-length'] ?? 0) > 0;
    // Injected requests (app.inject) have no connection to time out.
    if (!hasBody || raw.complete || typeof raw.setTimeout !== 'function') return done();
    raw.setTimeout(limits.bodyIdleMs, () => {
      const socket = raw.socket;
      if (!socket.writable) return socket.destroy();
      const body = errorJson(408, `request body stalled: no data for ${formatMs(limits.bodyIdleMs)}`);
      socket.end(
        `HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      socket.destroySoon();
    });
    // Once the body is in, the connection may wait as long as the route needs.
    raw.once('end', () => raw.setTimeout(0));
    done();
  });
}
