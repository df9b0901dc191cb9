import type { FastifyInstance } from 'fastify';
import { heldRequests, holdUntilAnswered, parseWait } from '../kernel/long-poll.js';
import { IntervalJob } from '../kernel/jobs.js';
import { presentWhileOpen } from '../liveness/presence.js';
import {
  inboxOwner,
  isMessageFor,
  markMessage,
  MESSAGE_ACK,
  MESSAGE_READ,
  MESSAGE_SEND,
  pruneMessages,
  readInbox,
  readThread,
  sendMessage,
  unreadCounts,
} from './messages.js';
import { inboxQuery, messageIdParams, messageSchema, receiptSchema, sendBody, sentSchema, threadParams, threadSchema, unreadSchema } from './schemas.js';
import { KoorErrorRef, Type, typedRoutes } from '../kernel/schema.js';

const tags = ['messages'];
const error = KoorErrorRef;

/** HTTP routes of direct messages (SPEC §17), and the job that prunes old ones. */
export default async function messagesRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const abandoned = heldRequests(app);
  const api = typedRoutes(app);

  api.post('/api/messages', {
    config: { permission: 'write', act: 'send messages', auditAction: MESSAGE_SEND },
    schema: {
      tags,
      summary: 'Send a message to instances (by id or name), a capability, a workspace, everyone or the human',
      body: sendBody,
      response: { 201: sentSchema, 400: error },
    },
  }, async (request, reply) => reply.code(201).send(await sendMessage(ctx, request.body, request.actor)));

  api.get('/api/messages/inbox', {
    config: { permission: 'read' },
    schema: {
      tags,
      summary: "The caller's messages, newest first (reading marks nothing read); ?wait=30s holds until an unread one is there",
      querystring: inboxQuery,
      response: { 200: Type.Array(messageSchema), 400: error, 403: error },
    },
  }, async (request, reply) => {
    const q = request.query;
    const owner = inboxOwner(request.actor, q.instance);
    const query = { unread: q.unread === '1' || q.unread === 'true', after: q.after, limit: q.limit };
    const waitMs = parseWait(q.wait);
    const read = () => readInbox(ctx, owner, query);
    if (waitMs === 0) return read();
    presentWhileOpen(ctx, request.actor, reply.raw);
    return holdUntilAnswered(ctx.hub, {
      attempt: async () => {
        const messages = await read();
        return messages.some((m) => m.read_at === null) ? messages : undefined;
      },
      wakesOn: (event) => isMessageFor(event, owner),
      timedOut: read,
    }, waitMs, abandoned(reply));
  });

  api.get('/api/messages/unread', {
    config: { permission: 'read' },
    schema: {
      tags,
      summary: 'Unread messages per inbox (the admin sees every inbox, an agent its own)',
      response: { 200: unreadSchema },
    },
  }, async (request) => unreadCounts(ctx, request.actor));

  api.post('/api/messages/:id/read', {
    config: { permission: 'write', act: 'mark messages read', auditAction: MESSAGE_READ },
    schema: { tags, summary: 'Mark a message read (only a recipient)', params: messageIdParams, response: { 200: receiptSchema.read_at, 403: error, 404: error } },
  }, async (request) => {
    const { id, read_at } = await markMessage(ctx, request.params.id, 'read', request.actor);
    return { id, read_at };
  });

  api.post('/api/messages/:id/ack', {
    config: { permission: 'write', act: 'acknowledge messages', auditAction: MESSAGE_ACK },
    schema: { tags, summary: 'Acknowledge a message, which also marks it read (only a recipient)', params: messageIdParams, response: { 200: receiptSchema.acked_at, 403: error, 404: error } },
  }, async (request) => {
    const { id, acked_at } = await markMessage(ctx, request.params.id, 'ack', request.actor);
    return { id, acked_at };
  });

  api.get('/api/messages/threads/:thread_id', {
    config: { permission: 'read' },
    schema: {
      tags,
      summary: 'A thread, oldest first: the messages the caller sent or received (the admin: all), with receipts',
      params: threadParams,
      response: { 200: threadSchema, 404: error },
    },
  }, async (request) => readThread(ctx, request.params.thread_id, request.actor));

  ctx.jobs.add(new IntervalJob('messages.prune', ctx.config.pruneIntervalMs, () => pruneMessages(ctx), ctx.log));
}
