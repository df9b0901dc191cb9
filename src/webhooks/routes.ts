import type { FastifyInstance } from 'fastify';
import { IntervalJob } from '../kernel/jobs.js';
import { WEBHOOK_ACTIONS, createWebhook, deleteWebhook, listWebhooks, testWebhook } from './webhooks.js';
import { idParams, newWebhookBody, webhookSchema } from './schemas.js';
import { KoorErrorRef, Type, typedRoutes } from '../kernel/schema.js';

const errors = { 400: KoorErrorRef, 401: KoorErrorRef };

/** HTTP routes of the webhooks domain, and the delivery worker that sends events to them. */
export default async function webhooksRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const dispatcher = ctx.webhooks;
  const api = typedRoutes(app);
  // Known before the first event can be published, so none slips past a webhook.
  await dispatcher.refresh();
  ctx.jobs.add(dispatcher.storing);
  ctx.jobs.add(dispatcher);
  ctx.jobs.add(new IntervalJob('webhooks.trim', ctx.config.pruneIntervalMs, () => dispatcher.trimBacklogs(), ctx.log));

  api.post('/api/webhooks', {
    config: { permission: 'admin', act: 'create webhooks', auditAction: WEBHOOK_ACTIONS.create },
    schema: {
      summary: 'Register a webhook',
      tags: ['webhooks'],
      body: newWebhookBody,
      response: { 200: webhookSchema, ...errors, 409: KoorErrorRef },
    },
  }, async (request) => {
    return createWebhook(ctx, request.body, request.actor);
  });

  api.get('/api/webhooks', {
    config: { permission: 'admin', act: 'list webhooks' },
    schema: {
      summary: 'List webhooks',
      tags: ['webhooks'],
      response: { 200: Type.Array(webhookSchema), 401: KoorErrorRef },
    },
  }, async () => listWebhooks(ctx));

  api.delete('/api/webhooks/:id', {
    config: { permission: 'admin', act: 'delete webhooks', auditAction: WEBHOOK_ACTIONS.delete },
    schema: {
      summary: 'Delete a webhook and its pending deliveries',
      tags: ['webhooks'],
      params: idParams,
      response: {
        200: Type.Object({ deleted: Type.String() }),
        ...errors,
        404: KoorErrorRef,
      },
    },
  }, async (request) => {
    await deleteWebhook(ctx, request.params.id, request.actor);
    return { deleted: request.params.id };
  });

  api.post('/api/webhooks/:id/test', {
    config: { permission: 'admin', act: 'test webhooks', auditAction: WEBHOOK_ACTIONS.test },
    schema: {
      summary: 'Send a webhook.test event to this webhook now',
      tags: ['webhooks'],
      params: idParams,
      response: {
        200: Type.Object({ tested: Type.String(), status: Type.String() }),
        ...errors,
        404: KoorErrorRef,
      },
    },
  }, async (request) => {
    await testWebhook(ctx, request.params.id, request.actor);
    return { tested: request.params.id, status: 'ok' };
  });
}
