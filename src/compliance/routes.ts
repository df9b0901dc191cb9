import type { FastifyInstance } from 'fastify';
import { IntervalJob } from '../kernel/jobs.js';
import { COMPLIANCE_ACTIONS, complianceHistory, runComplianceChecks } from './compliance.js';
import { historyQuery, runResultSchema, runSchema } from './schemas.js';
import { KoorErrorRef, Type, typedRoutes } from '../kernel/schema.js';

/** HTTP routes of the compliance domain, and its scheduled check. */
export default async function complianceRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const api = typedRoutes(app);
  if (ctx.config.complianceIntervalMs > 0) {
    ctx.jobs.add(new IntervalJob('compliance', ctx.config.complianceIntervalMs, () => runComplianceChecks(ctx), ctx.log));
  }

  api.post('/api/compliance/run', {
    config: { permission: 'admin', act: 'run compliance checks', auditAction: COMPLIANCE_ACTIONS.run },
    schema: {
      tags: ['compliance'],
      summary: "Check every active instance against its project's contracts now",
      response: {
        200: runResultSchema,
      },
    },
  }, async (request) => {
    const runs = await runComplianceChecks(ctx, request.actor);
    return { checked: true, runs, count: runs.length };
  });

  api.get('/api/compliance/history', {
    config: { permission: 'read' },
    schema: {
      tags: ['compliance'],
      summary: 'Stored compliance checks, newest first',
      querystring: historyQuery,
      response: { 200: Type.Array(runSchema), 400: KoorErrorRef },
    },
  }, async (request) => complianceHistory(ctx, { instance_id: request.query.instance_id || undefined, limit: request.query.limit }));
}
