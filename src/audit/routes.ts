import type { FastifyInstance } from 'fastify';
import { queryAudit, summarizeAudit } from './audit.js';
import { parseTimeRange } from '../kernel/time-range.js';
import { KoorErrorRef, Type, typedRoutes } from '../kernel/schema.js';
import { auditQuery, DEFAULT_AUDIT_LIMIT, entrySchema, rangeQuery, summarySchema } from './schemas.js';
import { IntervalJob } from '../kernel/jobs.js';
import { pruneAudit } from './prune.js';

/**
 * Read-only views of the audit log. There is deliberately no route that changes or removes an
 * entry: the log is append-only, written by the domains and the failed-call hook; only the
 * retention job (registered here) deletes entries older than `--audit-retention`.
 */
export default async function auditRoutes(app: FastifyInstance): Promise<void> {
  const api = typedRoutes(app);

  api.get('/api/audit', {
    config: { permission: 'read' },
    schema: {
      summary: 'Audit entries, newest first',
      tags: ['audit'],
      querystring: auditQuery,
      response: { 200: Type.Array(entrySchema), 400: KoorErrorRef },
    },
  }, async (request) => {
    const { actor, action, limit } = request.query;
    return queryAudit(app.koor.db.query, { actor, action, limit: limit ?? DEFAULT_AUDIT_LIMIT, ...parseTimeRange(request.query) });
  });

  api.get('/api/audit/summary', {
    config: { permission: 'read' },
    schema: {
      summary: 'Counts over the audit log by action and outcome',
      tags: ['audit'],
      querystring: rangeQuery,
      response: { 200: summarySchema, 400: KoorErrorRef },
    },
  }, async (request) => summarizeAudit(app.koor.db.query, parseTimeRange(request.query)));

  const ctx = app.koor;
  ctx.jobs.add(new IntervalJob('audit.prune', ctx.config.pruneIntervalMs, () => pruneAudit(ctx), ctx.log));
}
