import type { FastifyInstance } from 'fastify';
import { parseTimeRange } from '../kernel/time-range.js';
import { GROUP_BY, LLM_ACTIONS, MAX_COST_PER_CALL, MAX_TOKENS_PER_CALL, queryUsage, recordUsage, summarizeUsage, type GroupBy, type UsageInput } from './usage.js';

const text = (maxLength: number) => ({ type: 'string', maxLength }) as const;

const recordSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    created_at: { type: 'string' },
    provider: { type: 'string' },
    model: { type: 'string' },
    instance_id: { type: 'string' },
    project: { type: 'string' },
    tokens_in: { type: 'integer' },
    tokens_out: { type: 'integer' },
    cost_usd: { type: 'number' },
    request_type: { type: 'string' },
    session_tag: { type: 'string' },
  },
  required: ['id', 'created_at', 'provider', 'model', 'instance_id', 'project', 'tokens_in', 'tokens_out', 'cost_usd', 'request_type', 'session_tag'],
} as const;

const totalsSchema = {
  type: 'object',
  properties: {
    total_tokens_in: { type: 'integer' },
    total_tokens_out: { type: 'integer' },
    total_cost_usd: { type: 'number' },
    request_count: { type: 'integer' },
  },
  required: ['total_tokens_in', 'total_tokens_out', 'total_cost_usd', 'request_count'],
} as const;

const rangeProperties = {
  from: { type: 'string', description: 'Earliest time, inclusive (RFC 3339 or YYYY-MM-DD, UTC)' },
  to: { type: 'string', description: 'Latest time, inclusive (RFC 3339 or YYYY-MM-DD, UTC)' },
} as const;

/** LLM cost tracking: agents report what their model calls used; teams sum it up. */
export default async function llmRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;

  app.post<{ Body: UsageInput }>('/api/llm/usage', {
    config: { auditAction: LLM_ACTIONS.usage },
    schema: {
      summary: 'Record the usage of one LLM call',
      tags: ['llm'],
      body: {
        type: 'object',
        properties: {
          provider: { type: 'string', minLength: 1, maxLength: 200 },
          model: { type: 'string', minLength: 1, maxLength: 200 },
          instance_id: text(200),
          project: text(200),
          // Bounded so that no number of records can sum past what a total can hold: two
          // records of 1e308 summed to Infinity, which JSON writes as null.
          tokens_in: { type: 'integer', minimum: 0, maximum: MAX_TOKENS_PER_CALL },
          tokens_out: { type: 'integer', minimum: 0, maximum: MAX_TOKENS_PER_CALL },
          cost_usd: { type: 'number', minimum: 0, maximum: MAX_COST_PER_CALL },
          request_type: { type: 'string', minLength: 1, maxLength: 100 },
          session_tag: text(200),
        },
        required: ['provider', 'model'],
      },
      response: {
        200: { type: 'object', properties: { id: { type: 'integer' }, recorded: { type: 'boolean' } }, required: ['id', 'recorded'] },
        400: { $ref: 'KoorError#' },
      },
    },
  }, async (request) => {
    const record = await recordUsage(ctx, request.body, request.actor);
    return { id: record.id, recorded: true };
  });

  app.get<{ Querystring: { instance?: string; project?: string; session_tag?: string; from?: string; to?: string; limit: number } }>('/api/llm/usage', {
    schema: {
      summary: 'Recorded LLM usage, newest first',
      tags: ['llm'],
      querystring: {
        type: 'object',
        properties: {
          instance: { type: 'string', description: 'Instance id' },
          project: { type: 'string' },
          session_tag: { type: 'string' },
          ...rangeProperties,
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
        },
      },
      response: { 200: { type: 'array', items: recordSchema }, 400: { $ref: 'KoorError#' } },
    },
  }, async (request) => {
    const { instance, project, session_tag, limit } = request.query;
    return queryUsage(ctx.db.query, { instance, project, session_tag, limit, ...parseTimeRange(request.query) });
  });

  app.get<{ Querystring: { group_by: GroupBy; from?: string; to?: string } }>('/api/llm/usage/summary', {
    schema: {
      summary: 'LLM usage totals grouped by project, instance, model or session tag',
      tags: ['llm'],
      querystring: {
        type: 'object',
        properties: { group_by: { type: 'string', enum: [...GROUP_BY], default: 'project' }, ...rangeProperties },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            group_by: { type: 'string' },
            from: { type: 'string' },
            to: { type: 'string' },
            groups: { type: 'object', additionalProperties: totalsSchema },
            total: totalsSchema,
          },
          required: ['group_by', 'from', 'to', 'groups', 'total'],
        },
        400: { $ref: 'KoorError#' },
      },
    },
  }, async (request) => summarizeUsage(ctx.db.query, request.query.group_by, parseTimeRange(request.query)));
}
