import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { eventJson } from './hub.js';
import { EventStream, type StreamSink } from './stream.js';
import type { Subscription } from './subscription.js';

export const SUBSCRIBE_PATH = '/api/events/subscribe';
const PING_INTERVAL_MS = 30_000;

/**
 * The WebSocket side of `GET /api/events/subscribe`: one JSON text frame per event (and the
 * dropped notice), following the subscription the route's preHandler read. Returns the route's
 * `wsHandler`; sockets that stop answering pings are cut off.
 */
export function eventSocketServer(
  app: FastifyInstance,
  subscriptionOf: (request: FastifyRequest) => Subscription,
): (ws: WebSocket, request: FastifyRequest) => void {
  const ctx = app.koor;
  const alive = new WeakSet<WebSocket>();

  // A peer that vanished without closing (cable pulled, laptop asleep) is found by its silence.
  const pinger = setInterval(() => {
    for (const ws of app.websocketServer.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, PING_INTERVAL_MS);
  pinger.unref();
  app.addHook('onClose', async () => clearInterval(pinger));

  return (ws, request) => {
    alive.add(ws);
    const forget = ctx.streams.add({ kind: 'websocket', instanceId: request.actor.instanceId, end: (reason) => ws.close(1008, reason) });
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
    const { pattern, after } = subscriptionOf(request);
    const stream = new EventStream(ctx, pattern, sink, after);
    ws.on('pong', () => alive.add(ws));
    ws.on('close', () => {
      stream.close();
      forget();
    });
    stream.start().catch((err: unknown) => {
      ctx.log.error({ err }, 'event replay failed');
      ws.close(1011, 'event replay failed');
    });
  };
}
