import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Actor } from '../kernel/context.js';
import { eventJson } from './hub.js';
import { EventStream, type StreamSink } from './stream.js';
import type { Subscription } from './subscription.js';

const HEARTBEAT_MS = 15_000;
const FRAME_END = Buffer.from('\n\n');

/**
 * The live stream as Server-Sent Events, for clients without WebSocket: each event is an
 * `id:`/`data:` frame (so a reconnecting EventSource resumes from `Last-Event-ID`), a dropped
 * notice is an `event: dropped` frame, and a comment every 15 s keeps proxies from timing out.
 * Returns the function that opens one stream; open streams end when the app closes.
 */
export function eventSourceServer(app: FastifyInstance): (reply: FastifyReply, subscription: Subscription, actor: Actor) => void {
  const ctx = app.koor;
  const open = new Set<ServerResponse>();

  app.addHook('preClose', async () => {
    for (const response of open) response.end();
  });

  return (reply, subscription, actor) => {
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write(': koor event stream\n\n');
    open.add(response);
    const forget = ctx.streams.add({ kind: 'sse', instanceId: actor.instanceId, end: () => response.end() });

    const sink: StreamSink = {
      writeEvent: (event, written) => {
        response.write(Buffer.concat([Buffer.from(`id: ${event.id}\ndata: `), eventJson(event), FRAME_END]), written);
      },
      writeNotice: (notice, written) => response.write(`event: dropped\ndata: ${JSON.stringify(notice)}\n\n`, written),
      get bufferedAmount() {
        return response.writableLength;
      },
      cork: () => response.cork(),
      uncork: () => response.uncork(),
    };
    const stream = new EventStream(ctx, subscription.pattern, sink, subscription.after);
    const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    response.on('close', () => {
      clearInterval(heartbeat);
      stream.close();
      open.delete(response);
      forget();
    });
    stream.start().catch((err: unknown) => {
      ctx.log.error({ err }, 'event replay failed');
      response.end();
    });
  };
}
