import type { FastifyInstance } from 'fastify';
import { parseTimeRange } from '../kernel/time-range.js';
import { LLM_ACTIONS, queryUsage, recordUsage, summarizeUsage } from './usage.js';
import { DEFAULT_GROUP_BY, DEFAULT_USAGE_LIMIT, recordSchema, summaryQuery, summarySchema, usageBody, usageQuery } from './schemas.js';
import { KoorErrorRef, Type, typedRoutes } from '../kernel/schema.js';

/** LLM cost tracking: agents report what their model calls used; teams sum it up. */
export default async function llmRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const api = typedRoutes(app);

  api.post('/api/llm/usage', {
    config: { permission: 'write', act: 'record LLM usage', auditAction: LLM_ACTIONS.usage },
    schema: {
      summary: 'Record the usage of one LLM call',
      tags: ['llm'],
      body: usageBody,
      response: {
        200: Type.Object({ id: Type.Integer(), recorded: Type.Boolean() }),
        400: KoorErrorRef,
      },
    },
  }, async (request) => {
    const record = await recordUsage(ctx, request.body, request.actor);
    return { id: record.id, recorded: true };
  });

  api.get('/api/llm/usage', {
    config: { permission: 'read' },
    schema: {
      summary: 'Recorded LLM usage, newest first',
      tags: ['llm'],
      querystring: usageQuery,
      response: { 200: Type.Array(recordSchema), 400: KoorErrorRef },
    },
  }, async (request) => {
    const { instance, project, session_tag, limit } = request.query;
    return queryUsage(ctx.db.query, { instance, project, session_tag, limit: limit ?? DEFAULT_USAGE_LIMIT, ...parseTimeRange(request.query) });
  });

  api.get('/api/llm/usage/summary', {
    config: { permission: 'read' },
    schema: {
      summary: 'LLM usage totals grouped by project, instance, model or session tag',
      tags: ['llm'],
      querystring: summaryQuery,
      response: {
        200: summarySchema,
        400: KoorErrorRef,
      },
    },
  }, async (request) => summarizeUsage(ctx.db.query, request.query.group_by ?? DEFAULT_GROUP_BY, parseTimeRange(request.query)));
}
