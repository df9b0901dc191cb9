import type { FastifyInstance } from 'fastify';
import { badRequest } from '../kernel/errors.js';
import { DEFAULT_EXPORT_SOURCES, MAX_RULES_PER_WRITE, RULE_ACTIONS, SOURCES, exportRules, importRules, listRules, replaceLocalRules, type RuleInput } from './rules.js';
import { MAX_VIOLATIONS, SCAN_TIME_LIMIT_MS } from './scan.js';
import { acceptRule, deleteRule, proposeRule, rejectRule, type ProposeInput } from './lifecycle.js';
import { validateContent, type ValidateInput } from './validate.js';
import { projectParam, ruleInputSchema, ruleSchema, ruleStatusSchema } from './schemas.js';

const errors = { 400: { $ref: 'KoorError#' }, 404: { $ref: 'KoorError#' } };

/** HTTP routes of the rules domain: rule sets, validation and the rule lifecycle. */
export default async function rulesRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;

  app.get<{ Params: { project: string }; Querystring: { stack?: string; status?: string } }>('/api/validate/:project/rules', {
    schema: {
      tags: ['rules'],
      summary: "The rules that apply to a project (its own and _global); accepted ones unless ?status= says otherwise",
      params: { type: 'object', properties: { project: projectParam }, required: ['project'] },
      querystring: {
        type: 'object',
        properties: {
          stack: { type: 'string' },
          status: { type: 'string', enum: ['accepted', 'proposed', 'rejected', 'all'] },
        },
      },
      response: { 200: { type: 'object', properties: { project: { type: 'string' }, rules: { type: 'array', items: ruleSchema } } } },
    },
  }, async (request) => {
    const { project } = request.params;
    const rules = await listRules(ctx, project, { stack: request.query.stack || undefined, status: request.query.status });
    return { project, rules };
  });

  app.put<{ Params: { project: string }; Body: RuleInput[] }>('/api/validate/:project/rules', {
    config: { auditAction: RULE_ACTIONS.put },
    schema: {
      tags: ['rules'],
      summary: "Replace the project's local rules",
      params: { type: 'object', properties: { project: projectParam }, required: ['project'] },
      body: { type: 'array', items: ruleInputSchema, maxItems: MAX_RULES_PER_WRITE },
      response: { 200: { type: 'object', properties: { project: { type: 'string' }, count: { type: 'integer' } } }, ...errors },
    },
  }, async (request) => {
    const count = await replaceLocalRules(ctx, request.params.project, request.body, request.actor);
    return { project: request.params.project, count };
  });

  app.post<{ Params: { project: string }; Body: ValidateInput }>('/api/validate/:project', {
    schema: {
      tags: ['rules'],
      summary: 'Check content against the accepted rules of the project and _global',
      params: { type: 'object', properties: { project: projectParam }, required: ['project'] },
      body: {
        type: 'object',
        required: ['content'],
        properties: { filename: { type: 'string' }, content: { type: 'string' }, stack: { type: 'string' } },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            project: { type: 'string' },
            violations: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  rule_id: { type: 'string' },
                  severity: { type: 'string' },
                  message: { type: 'string' },
                  line: { type: 'integer' },
                  match: { type: 'string' },
                },
              },
            },
            count: { type: 'integer' },
            truncated: { type: 'boolean', description: `Present (true) when the list is incomplete: more than ${MAX_VIOLATIONS} violations, or the scan reached its ${SCAN_TIME_LIMIT_MS / 1000} s limit` },
          },
        },
        400: errors[400],
      },
    },
  }, async (request) => {
    const { project } = request.params;
    const { violations, truncated } = await validateContent(ctx, project, {
      filename: request.body.filename || undefined,
      content: request.body.content,
      stack: request.body.stack || undefined,
    });
    const instanceId = request.actor.instanceId;
    if (instanceId && violations.length > 0) ctx.counters.addAgentMetric(instanceId, 'violations', violations.length);
    return { project, violations, count: violations.length, ...(truncated ? { truncated } : {}) };
  });

  app.post<{ Body: ProposeInput }>('/api/rules/propose', {
    config: { auditAction: RULE_ACTIONS.propose },
    schema: {
      tags: ['rules'],
      summary: 'Propose a learned rule (status proposed); publishes rule.proposed',
      body: { ...ruleInputSchema, required: ['project', 'rule_id', 'pattern'] },
      response: { 200: ruleStatusSchema, 400: errors[400], 409: { $ref: 'KoorError#' } },
    },
  }, async (request) => proposeRule(ctx, request.body, request.actor));

  for (const [verb, decide] of [['accept', acceptRule], ['reject', rejectRule]] as const) {
    app.post<{ Params: { project: string; rule_id: string } }>(`/api/rules/:project/:rule_id/${verb}`, {
      config: { auditAction: RULE_ACTIONS[verb] },
      schema: {
        tags: ['rules'],
        summary: `${verb === 'accept' ? 'Accept' : 'Reject'} a proposed rule`,
        params: { type: 'object', properties: { project: projectParam, rule_id: { type: 'string', minLength: 1 } }, required: ['project', 'rule_id'] },
        response: { 200: ruleStatusSchema, 404: errors[404] },
      },
    }, async (request) => decide(ctx, request.params.project, request.params.rule_id, request.actor));
  }

  app.delete<{ Params: { project: string; rule_id: string } }>('/api/rules/:project/:rule_id', {
    config: { auditAction: RULE_ACTIONS.delete },
    schema: {
      tags: ['rules'],
      summary: 'Delete one rule, whatever its source and status',
      params: { type: 'object', properties: { project: projectParam, rule_id: { type: 'string', minLength: 1 } }, required: ['project', 'rule_id'] },
      response: { 200: { type: 'object', properties: { deleted: { type: 'string' } }, required: ['deleted'] }, 404: errors[404] },
    },
  }, async (request) => deleteRule(ctx, request.params.project, request.params.rule_id, request.actor));

  app.get<{ Querystring: { source?: string } }>('/api/rules/export', {
    schema: {
      tags: ['rules'],
      summary: `Accepted rules of the given sources (default ${DEFAULT_EXPORT_SOURCES.join(',')}), ready for import`,
      querystring: { type: 'object', properties: { source: { type: 'string' } } },
      response: { 200: { type: 'array', items: ruleSchema }, 400: errors[400] },
    },
  }, async (request) => {
    const named = (request.query.source ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    // Blank (`?source=` or `?source=%20`) means the default, like leaving it out.
    const sources = named.length > 0 ? named : [...DEFAULT_EXPORT_SOURCES];
    for (const source of sources) {
      if (!(SOURCES as readonly string[]).includes(source)) throw badRequest(`source must be among ${SOURCES.join(', ')} (got "${source}")`);
    }
    return exportRules(ctx, sources);
  });

  app.post<{ Body: RuleInput[]; Querystring: { project?: string } }>('/api/rules/import', {
    config: { auditAction: RULE_ACTIONS.import },
    schema: {
      tags: ['rules'],
      summary: 'Upsert rules as accepted (source defaults to external; ?project= for rules without one)',
      querystring: { type: 'object', properties: { project: projectParam } },
      body: { type: 'array', items: ruleInputSchema, maxItems: MAX_RULES_PER_WRITE },
      response: { 200: { type: 'object', properties: { imported: { type: 'integer' } } }, 400: errors[400] },
    },
  }, async (request) => ({ imported: await importRules(ctx, request.body, request.actor, { project: request.query.project }) }));
}
