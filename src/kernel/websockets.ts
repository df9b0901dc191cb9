import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { HttpError, REASONS } from './errors.js';

const CLOSE_GRACE_MS = 1_000;

export interface WebSocketSupportOptions {
  /** The close reason open sockets get (with code 1001) when the app closes. */
  goingAway: string;
  /** Largest message a peer may send, in bytes. */
  maxPayload?: number;
}

/**
 * WebSockets the fastify way (@fastify/websocket), as the API and the dashboard both use them:
 * an upgrade goes through the router like any request (onRequest hooks such as auth, the
 * route's schema and preHandler, the error handler for refusals), and is refused with a 404
 * on a route that declares no `wsHandler`. When the app closes, every socket gets a close
 * frame (1001) and whoever has not answered it within a second is cut off, so shutdown never
 * waits on a peer.
 */
async function webSocketSupport(app: FastifyInstance, options: WebSocketSupportOptions): Promise<void> {
  const socketRoutes = new Set<string>();
  app.addHook('onRoute', (route) => {
    if (route.wsHandler) socketRoutes.add(route.url);
  });

  await app.register(websocket, {
    options: { maxPayload: options.maxPayload ?? 64 * 1024 },
    // A socket error after the upgrade is a peer that went away uncleanly: nothing to report.
    errorHandler(err, socket, request) {
      request.log.debug({ err }, 'WebSocket failed');
      socket.terminate();
    },
    async preClose(this: FastifyInstance) {
      const server = this.websocketServer;
      const sockets = [...server.clients];
      const closed = sockets.map((ws) => new Promise<void>((resolve) => {
        if (ws.readyState === ws.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close(1001, options.goingAway);
      }));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS)))]);
      clearTimeout(timer);
      for (const ws of sockets) ws.terminate();
      server.close();
    },
  });

  // After the onRequest hooks (auth answers first, as for any request). Callback style: plain
  // requests pass straight through without allocating a promise.
  app.addHook('preValidation', (request, _reply, done) => {
    if (!request.ws || socketRoutes.has(request.routeOptions.url ?? '')) return done();
    const path = request.url.split('?')[0];
    done(new HttpError(404, `no WebSocket endpoint at ${path}`, { reason: REASONS.noRoute }));
  });

  // An upgrade request answered over HTTP instead (refused by any hook, even one that ran
  // before @fastify/websocket's own) leaves a connection that can carry nothing else: close it.
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.raw.headers.upgrade !== undefined) request.raw.socket?.destroy();
    done();
  });
}

export default fp(webSocketSupport, { name: 'koor-websockets' });
