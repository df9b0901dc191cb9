import type { FastifyInstance } from 'fastify';
import { queryAudit, summarizeAudit } from './audit.js';
import { parseTimeRange } from '../kernel/time-range.js';

const entrySchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    timestamp: { type: 'string' },
    actor: { type: 'string' },
    action: { type: 'string' },
    resource: { type: 'string' },
    detail: { type: 'string' },
    outcome: { type: 'string', enum: ['success', 'error'] },
  },
  required: ['id', 'timestamp', 'actor', 'action', 'resource', 'detail', 'outcome'],
} as const;

const rangeProperties = {
  from: { type: 'string', description: 'Earliest timestamp, inclusive (RFC 3339 or YYYY-MM-DD, UTC)' },
  to: { type: 'string', description: 'Latest timestamp, inclusive (RFC 3339 or YYYY-MM-DD, UTC)' },
} as const;

const countsSchema = { type: 'object', additionalProperties: { type: 'integer' } } as const;

/**
 * Read-only views of the audit log. There is deliberately no route that changes or removes an
 * entry: the log is append-only, written by the domains and the failed-call hook.
 */
export default async function auditRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { actor?: string; action?: string; from?: string; to?: string; limit: number } }>('/api/audit', {
    schema: {
      summary: 'Audit entries, newest first',
      tags: ['audit'],
      querystring: {
        type: 'object',
        properties: {
          actor: { type: 'string', description: 'Instance id, `admin` or `anonymous`' },
          action: { type: 'string', description: 'Exact action name, e.g. state.put' },
          ...rangeProperties,
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
        },
      },
      response: { 200: { type: 'array', items: entrySchema }, 400: { $ref: 'KoorError#' } },
    },
  }, async (request) => {
    const { actor, action, limit } = request.query;
    return queryAudit(app.koor.db.query, { actor, action, limit, ...parseTimeRange(request.query) });
  });

  app.get<{ Querystring: { from?: string; to?: string } }>('/api/audit/summary', {
    schema: {
      summary: 'Counts over the audit log by action and outcome',
      tags: ['audit'],
      querystring: { type: 'object', properties: rangeProperties },
      response: {
        200: {
          type: 'object',
          properties: {
            total_entries: { type: 'integer' },
            action_counts: countsSchema,
            outcome_counts: countsSchema,
            unique_actors: { type: 'integer' },
            unique_resources: { type: 'integer' },
          },
          required: ['total_entries', 'action_counts', 'outcome_counts', 'unique_actors', 'unique_resources'],
        },
        400: { $ref: 'KoorError#' },
      },
    },
  }, async (request) => summarizeAudit(app.koor.db.query, parseTimeRange(request.query)));
}
