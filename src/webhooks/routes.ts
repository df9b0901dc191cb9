import type { FastifyInstance } from 'fastify';
import { IntervalJob } from '../kernel/jobs.js';
import { WEBHOOK_ACTIONS, createWebhook, deleteWebhook, listWebhooks, testWebhook, type NewWebhook } from './webhooks.js';

const webhookSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    url: { type: 'string', description: 'Credentials in it are shown as ***' },
    has_secret: { type: 'boolean', description: 'Whether deliveries are signed; the secret itself is never shown' },
    patterns: { type: 'array', items: { type: 'string' } },
    active: { type: 'boolean' },
    created_at: { type: 'string', format: 'date-time' },
    fail_count: { type: 'integer' },
    last_fired: { type: 'string', format: 'date-time', nullable: true },
  },
  required: ['id', 'url', 'has_secret', 'patterns', 'active', 'created_at', 'fail_count', 'last_fired'],
} as const;

const idParams = {
  type: 'object',
  properties: { id: { type: 'string' } },
  required: ['id'],
} as const;

const errors = { 400: { $ref: 'KoorError#' }, 401: { $ref: 'KoorError#' } };

/** HTTP routes of the webhooks domain, and the delivery worker that sends events to them. */
export default async function webhooksRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const dispatcher = ctx.webhooks;
  // Known before the first event can be published, so none slips past a webhook.
  await dispatcher.refresh();
  ctx.jobs.add(dispatcher.storing);
  ctx.jobs.add(dispatcher);
  ctx.jobs.add(new IntervalJob('webhooks.trim', ctx.config.pruneIntervalMs, () => dispatcher.trimBacklogs(), ctx.log));

  app.post<{ Body: NewWebhook }>('/api/webhooks', {
    config: { permission: 'admin', act: 'create webhooks', auditAction: WEBHOOK_ACTIONS.create },
    schema: {
      summary: 'Register a webhook',
      tags: ['webhooks'],
      body: {
        type: 'object',
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' },
          url: { type: 'string', minLength: 1, maxLength: 2048 },
          patterns: { type: 'array', items: { type: 'string' }, maxItems: 64, default: ['*'] },
          secret: { type: 'string', maxLength: 1024, description: 'Signs deliveries (X-Koor-Signature); never shown again' },
        },
        required: ['id', 'url'],
      },
      response: { 200: webhookSchema, ...errors, 409: { $ref: 'KoorError#' } },
    },
  }, async (request) => {
    return createWebhook(ctx, request.body, request.actor);
  });

  app.get('/api/webhooks', {
    config: { permission: 'admin', act: 'list webhooks' },
    schema: {
      summary: 'List webhooks',
      tags: ['webhooks'],
      response: { 200: { type: 'array', items: webhookSchema }, 401: { $ref: 'KoorError#' } },
    },
  }, async () => listWebhooks(ctx));

  app.delete<{ Params: { id: string } }>('/api/webhooks/:id', {
    config: { permission: 'admin', act: 'delete webhooks', auditAction: WEBHOOK_ACTIONS.delete },
    schema: {
      summary: 'Delete a webhook and its pending deliveries',
      tags: ['webhooks'],
      params: idParams,
      response: {
        200: { type: 'object', properties: { deleted: { type: 'string' } }, required: ['deleted'] },
        ...errors,
        404: { $ref: 'KoorError#' },
      },
    },
  }, async (request) => {
    await deleteWebhook(ctx, request.params.id, request.actor);
    return { deleted: request.params.id };
  });

  app.post<{ Params: { id: string } }>('/api/webhooks/:id/test', {
    config: { permission: 'admin', act: 'test webhooks', auditAction: WEBHOOK_ACTIONS.test },
    schema: {
      summary: 'Send a webhook.test event to this webhook now',
      tags: ['webhooks'],
      params: idParams,
      response: {
        200: {
          type: 'object',
          properties: { tested: { type: 'string' }, status: { type: 'string' } },
          required: ['tested', 'status'],
        },
        ...errors,
        404: { $ref: 'KoorError#' },
      },
    },
  }, async (request) => {
    await testWebhook(ctx, request.params.id, request.actor);
    return { tested: request.params.id, status: 'ok' };
  });
}
