import type { FastifyInstance } from 'fastify';
import { IntervalJob } from '../kernel/jobs.js';
import { agentMetricRows, agentMetricSummary } from './agent-metrics.js';
import { METRICS_ACTIONS, resetTokenTax, serverMetrics } from './server-metrics.js';

const periodSchema = {
  type: 'string',
  pattern: '^[0-9][0-9T-]{0,12}$',
  description: 'Prefix of the hourly period YYYY-MM-DDTHH (UTC), e.g. 2026-02 or 2026-02-16T14',
} as const;

const rowSchema = {
  type: 'object',
  properties: {
    instance_id: { type: 'string' },
    metric_name: { type: 'string' },
    metric_value: { type: 'number' },
    period: { type: 'string' },
  },
  required: ['instance_id', 'metric_name', 'metric_value', 'period'],
} as const;

const summarySchema = {
  type: 'object',
  properties: {
    instance_id: { type: 'string' },
    metrics: { type: 'object', additionalProperties: { type: 'number' } },
  },
  required: ['instance_id', 'metrics'],
} as const;

const tokenTaxSchema = {
  type: 'object',
  properties: {
    mcp_calls: { type: 'integer' },
    rest_calls: { type: 'integer' },
    total_calls: { type: 'integer' },
    mcp_estimated_tokens: { type: 'integer' },
    rest_tokens_saved: { type: 'integer' },
    savings_percent: { type: 'number' },
  },
  required: ['mcp_calls', 'rest_calls', 'total_calls', 'mcp_estimated_tokens', 'rest_tokens_saved', 'savings_percent'],
} as const;

/** Server metrics, per-agent metrics and the Prometheus endpoint; owns the agent-metrics flush job. */
export default async function metricsRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const flusher = ctx.agentMetrics;
  const ticker = new IntervalJob('metrics-flush', ctx.config.metricsFlushIntervalMs, () => flusher.flush(), ctx.log);
  ctx.jobs.add({
    name: 'metrics-flush',
    // Each replica counts its own calls and adds them to the shared rows.
    runsOn: 'every-replica',
    start: () => ticker.start(),
    // Jobs stop before the database closes: the last counts of a clean shutdown are kept.
    async stop() {
      await ticker.stop();
      await flusher.flush().catch((err: unknown) => ctx.log.error({ err }, 'final agent-metrics flush failed'));
    },
  });

  app.get('/api/metrics', {
    schema: {
      summary: 'Server facts and the token tax (MCP vs REST calls)',
      tags: ['metrics'],
      response: {
        200: {
          type: 'object',
          properties: {
            uptime: { type: 'string', description: 'Time since start as Go writes durations, e.g. 3h24m10s' },
            uptime_seconds: { type: 'integer', description: 'Seconds since start' },
            state_keys: { type: 'integer' },
            instances: { type: 'integer' },
            last_event_id: { type: 'integer' },
            api_bind: { type: 'string' },
            dashboard_bind: { type: 'string' },
            durability: {
              type: 'string',
              enum: ['full', 'normal'],
              description: 'full: an acknowledged write survives a power loss; normal: the last ones before it may be lost (--sqlite-synchronous normal)',
            },
            token_tax: tokenTaxSchema,
          },
          required: ['uptime', 'uptime_seconds', 'state_keys', 'instances', 'last_event_id', 'api_bind', 'dashboard_bind', 'durability', 'token_tax'],
        },
      },
    },
  }, async () => serverMetrics(ctx));

  app.post('/api/metrics/reset', {
    config: { auditAction: METRICS_ACTIONS.reset },
    schema: {
      summary: 'Zero the token-tax counters',
      tags: ['metrics'],
      response: { 200: { type: 'object', properties: { reset: { type: 'boolean' }, token_tax: tokenTaxSchema }, required: ['reset', 'token_tax'] } },
    },
  }, async (request) => {
    await resetTokenTax(ctx, request.actor);
    return { reset: true, token_tax: (await serverMetrics(ctx)).token_tax };
  });

  app.get<{ Querystring: { instance_id?: string; period?: string } }>('/api/metrics/agents', {
    schema: {
      summary: 'Per-agent metrics: totals per instance, or one instance\'s hourly rows with instance_id',
      tags: ['metrics'],
      querystring: { type: 'object', properties: { instance_id: { type: 'string' }, period: periodSchema } },
      response: { 200: { type: 'array', items: { anyOf: [summarySchema, rowSchema] } }, 400: { $ref: 'KoorError#' } },
    },
  }, async (request) => {
    await flusher.flush();
    const { instance_id: instanceId, period } = request.query;
    if (instanceId) return agentMetricRows(ctx.db.query, { instanceId, period });
    return agentMetricSummary(ctx.db.query, period);
  });

  app.get<{ Params: { id: string }; Querystring: { period?: string } }>('/api/metrics/agents/:id', {
    schema: {
      summary: 'One instance\'s metrics in hourly rows',
      tags: ['metrics'],
      params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      querystring: { type: 'object', properties: { period: periodSchema } },
      response: { 200: { type: 'array', items: rowSchema }, 400: { $ref: 'KoorError#' } },
    },
  }, async (request) => {
    await flusher.flush();
    return agentMetricRows(ctx.db.query, { instanceId: request.params.id, period: request.query.period });
  });

  const { prometheus } = ctx;
  app.get('/metrics', {
    schema: {
      summary: 'Prometheus text exposition',
      tags: ['metrics'],
      produces: ['text/plain'],
      response: { 200: { type: 'string' } },
    },
  }, async (_request, reply) => {
    const { contentType, body } = await prometheus.render();
    reply.type(contentType);
    return body;
  });
}
