import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Actor, AppContext } from '../kernel/context.js';
import { HttpError, errorJson, unauthorized, REASONS, type ErrorDetails } from '../kernel/errors.js';
import { identifyCaller } from '../server/auth.js';
import { eventJson } from './hub.js';
import { EventStream, type StreamSink } from './stream.js';
import { parseSubscription } from './subscription.js';

export const SUBSCRIBE_PATH = '/api/events/subscribe';
const PING_INTERVAL_MS = 30_000;
const CLOSE_GRACE_MS = 1_000;

/**
 * Who is asking to upgrade, by the same rules as every other request (`identifyCaller`): the
 * bearer header or `?token=` (browsers cannot set headers on a WebSocket), and the instance
 * token header. Null when auth is on and no valid token is given.
 */
function upgradeActor(ctx: AppContext, request: IncomingMessage, url: URL): Promise<Actor | null> {
  const header = request.headers.authorization;
  const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : (url.searchParams.get('token') ?? undefined);
  const instanceHeader = request.headers['x-koor-instance-token'];
  const instanceToken = typeof instanceHeader === 'string' && instanceHeader !== '' ? instanceHeader : undefined;
  return identifyCaller(ctx, { bearer, instanceToken });
}

/** Answers an upgrade request with a plain HTTP error in the usual `{error, code}` shape. */
function refuseUpgrade(socket: Duplex, status: number, message: string, details?: ErrorDetails): void {
  const body = errorJson(status, message, details);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/**
 * Serves `GET /api/events/subscribe` as a WebSocket on the app's HTTP server: one JSON text
 * frame per event. Sockets get a close frame (1001) when the app closes.
 */
export function serveEventSockets(app: FastifyInstance): void {
  const ctx = app.koor;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, clientTracking: false });
  const sockets = new Set<WebSocket>();
  const alive = new WeakSet<WebSocket>();
  let closing = false;

  // A peer that vanished without closing (cable pulled, laptop asleep) is found by its silence.
  const pinger = setInterval(() => {
    for (const ws of sockets) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, PING_INTERVAL_MS);
  pinger.unref();

  const accept = (ws: WebSocket, subscription: ReturnType<typeof parseSubscription>, actor: Actor) => {
    sockets.add(ws);
    alive.add(ws);
    const forget = ctx.streams.add({ kind: 'websocket', instanceId: actor.instanceId, end: (reason) => ws.close(1008, reason) });
    // ws keeps its socket private; corking it lets several frames leave in one write.
    const socket = (ws as unknown as { _socket?: Duplex })._socket;
    const sink: StreamSink = {
      writeEvent: (event, written) => ws.send(eventJson(event), { binary: false }, written),
      writeNotice: (notice, written) => ws.send(JSON.stringify(notice), written),
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      cork: () => socket?.cork(),
      uncork: () => socket?.uncork(),
    };
    const stream = new EventStream(ctx, subscription.pattern, sink, subscription.after);
    ws.on('pong', () => alive.add(ws));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      stream.close();
      sockets.delete(ws);
      forget();
    });
    stream.start().catch((err: unknown) => {
      ctx.log.error({ err }, 'event replay failed');
      ws.close(1011, 'event replay failed');
    });
  };

  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://koor.invalid');
    if (url.pathname !== SUBSCRIBE_PATH) {
      // Another part of the app may serve this path; if none does, say so instead of hanging.
      if (app.server.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404, `no WebSocket endpoint at ${url.pathname}`, { reason: REASONS.noRoute });
      return;
    }
    socket.on('error', () => undefined);
    if (closing) return refuseUpgrade(socket, 503, 'server is shutting down', { reason: REASONS.shuttingDown });
    void (async () => {
      let subscription: ReturnType<typeof parseSubscription>;
      let actor: Actor | null;
      try {
        actor = await upgradeActor(ctx, request, url);
        if (!actor) throw unauthorized();
        subscription = parseSubscription(
          url.searchParams.get('pattern') ?? undefined,
          url.searchParams.get('after') ?? undefined,
        );
      } catch (err) {
        if (err instanceof HttpError) return refuseUpgrade(socket, err.status, err.message, { ...err.extra, reason: err.reason });
        ctx.log.error({ err }, 'WebSocket upgrade failed');
        return refuseUpgrade(socket, 500, 'internal server error');
      }
      if (closing || socket.destroyed) return socket.destroy();
      wss.handleUpgrade(request, socket, head, (ws) => accept(ws, subscription, actor!));
    })();
  });

  // Before the HTTP server stops: say goodbye with a close frame, then cut whoever lingers.
  app.addHook('preClose', async () => {
    closing = true;
    clearInterval(pinger);
    const closed = [...sockets].map(
      (ws) => new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1001, 'server shutting down');
      }),
    );
    const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
    await Promise.race([Promise.all(closed), grace]);
    for (const ws of sockets) ws.terminate();
    wss.close();
  });
}
