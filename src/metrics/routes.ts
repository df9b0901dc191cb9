import type { FastifyInstance } from 'fastify';
import { IntervalJob } from '../kernel/jobs.js';
import { agentMetricRows, agentMetricSummary } from './agent-metrics.js';
import { METRICS_ACTIONS, resetTokenTax, serverMetrics } from './server-metrics.js';
import { periodSchema, rowSchema, serverMetricsSchema, summarySchema, tokenTaxSchema } from './schemas.js';
import { KoorErrorRef, Type, typedRoutes } from '../kernel/schema.js';

/** Server metrics, per-agent metrics and the Prometheus endpoint; owns the agent-metrics flush job. */
export default async function metricsRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const flusher = ctx.agentMetrics;
  const api = typedRoutes(app);
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

  api.get('/api/metrics', {
    config: { permission: 'read' },
    schema: {
      summary: 'Server facts and the token tax (MCP vs REST calls)',
      tags: ['metrics'],
      response: {
        200: serverMetricsSchema,
      },
    },
  }, async () => serverMetrics(ctx));

  api.post('/api/metrics/reset', {
    config: { permission: 'admin', act: 'reset metrics', auditAction: METRICS_ACTIONS.reset },
    schema: {
      summary: 'Zero the token-tax counters',
      tags: ['metrics'],
      response: { 200: Type.Object({ reset: Type.Boolean(), token_tax: tokenTaxSchema }) },
    },
  }, async (request) => {
    await resetTokenTax(ctx, request.actor);
    return { reset: true, token_tax: (await serverMetrics(ctx)).token_tax };
  });

  api.get('/api/metrics/agents', {
    config: { permission: 'read' },
    schema: {
      summary: 'Per-agent metrics: totals per instance, or one instance\'s hourly rows with instance_id',
      tags: ['metrics'],
      querystring: Type.Object({ instance_id: Type.Optional(Type.String()), period: Type.Optional(periodSchema) }),
      response: { 200: Type.Array(Type.Union([summarySchema, rowSchema])), 400: KoorErrorRef },
    },
  }, async (request) => {
    await flusher.flush();
    const { instance_id: instanceId, period } = request.query;
    if (instanceId) return agentMetricRows(ctx.db.query, { instanceId, period });
    return agentMetricSummary(ctx.db.query, period);
  });

  api.get('/api/metrics/agents/:id', {
    config: { permission: 'read' },
    schema: {
      summary: 'One instance\'s metrics in hourly rows',
      tags: ['metrics'],
      params: Type.Object({ id: Type.String() }),
      querystring: Type.Object({ period: Type.Optional(periodSchema) }),
      response: { 200: Type.Array(rowSchema), 400: KoorErrorRef },
    },
  }, async (request) => {
    await flusher.flush();
    return agentMetricRows(ctx.db.query, { instanceId: request.params.id, period: request.query.period });
  });

  const { prometheus } = ctx;
  api.get('/metrics', {
    config: { permission: 'read' },
    schema: {
      summary: 'Prometheus text exposition',
      tags: ['metrics'],
      produces: ['text/plain'],
      response: { 200: Type.String() },
    },
  }, async (_request, reply) => {
    const { contentType, body } = await prometheus.render();
    reply.type(contentType);
    return body;
  });
}
