import type { FastifyInstance } from 'fastify';
import { IntervalJob } from '../kernel/jobs.js';
import { COMPLIANCE_ACTIONS, complianceHistory, runComplianceChecks } from './compliance.js';

const runSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    instance_id: { type: 'string' },
    project: { type: 'string' },
    contract: { type: 'string' },
    pass: { type: 'boolean' },
    violations: {
      type: 'array',
      items: { type: 'object', properties: { endpoint: { type: 'string' }, path: { type: 'string' }, message: { type: 'string' } } },
    },
    run_at: { type: 'string' },
  },
} as const;

/** HTTP routes of the compliance domain, and its scheduled check. */
export default async function complianceRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  if (ctx.config.complianceIntervalMs > 0) {
    ctx.jobs.add(new IntervalJob('compliance', ctx.config.complianceIntervalMs, () => runComplianceChecks(ctx), ctx.log));
  }

  app.post('/api/compliance/run', {
    config: { permission: 'admin', act: 'run compliance checks', auditAction: COMPLIANCE_ACTIONS.run },
    schema: {
      tags: ['compliance'],
      summary: "Check every active instance against its project's contracts now",
      response: {
        200: { type: 'object', properties: { checked: { type: 'boolean' }, runs: { type: 'array', items: runSchema }, count: { type: 'integer' } } },
      },
    },
  }, async (request) => {
    const runs = await runComplianceChecks(ctx, request.actor);
    return { checked: true, runs, count: runs.length };
  });

  app.get<{ Querystring: { instance_id?: string; limit?: number } }>('/api/compliance/history', {
    config: { permission: 'read' },
    schema: {
      tags: ['compliance'],
      summary: 'Stored compliance checks, newest first',
      querystring: {
        type: 'object',
        properties: { instance_id: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
      },
      response: { 200: { type: 'array', items: runSchema }, 400: { $ref: 'KoorError#' } },
    },
  }, async (request) => complianceHistory(ctx, { instance_id: request.query.instance_id || undefined, limit: request.query.limit }));
}
