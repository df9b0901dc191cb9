import type { FastifyInstance } from 'fastify';
import { badRequest } from '../kernel/errors.js';
import { DEFAULT_EXPORT_SOURCES, MAX_RULES_PER_WRITE, RULE_ACTIONS, SOURCES, exportRules, importRules, listRules, replaceLocalRules } from './rules.js';
import { MAX_VIOLATIONS } from './scan.js';
import { acceptRule, deleteRule, proposeRule, rejectRule } from './lifecycle.js';
import { validateContent } from './validate.js';
import { projectParam, proposeBody, ruleInputSchema, ruleSchema, ruleStatusSchema, validateBody, violationSchema } from './schemas.js';
import { KoorErrorRef, StringEnum, Type, typedRoutes } from '../kernel/schema.js';

const errors = { 400: KoorErrorRef, 404: KoorErrorRef };
const projectParams = Type.Object({ project: projectParam });
const ruleParams = Type.Object({ project: projectParam, rule_id: Type.String({ minLength: 1 }) });

/** HTTP routes of the rules domain: rule sets, validation and the rule lifecycle. */
export default async function rulesRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const api = typedRoutes(app);

  api.get('/api/validate/:project/rules', {
    config: { permission: 'read' },
    schema: {
      tags: ['rules'],
      summary: "The rules that apply to a project (its own and _global); accepted ones unless ?status= says otherwise",
      params: projectParams,
      querystring: Type.Object({
        stack: Type.Optional(Type.String()),
        status: Type.Optional(StringEnum(['accepted', 'proposed', 'rejected', 'all'])),
      }),
      response: { 200: Type.Partial(Type.Object({ project: Type.String(), rules: Type.Array(ruleSchema) })) },
    },
  }, async (request) => {
    const { project } = request.params;
    const rules = await listRules(ctx, project, { stack: request.query.stack || undefined, status: request.query.status });
    return { project, rules };
  });

  api.put('/api/validate/:project/rules', {
    config: { permission: 'admin', act: 'replace rules', auditAction: RULE_ACTIONS.put },
    schema: {
      tags: ['rules'],
      summary: "Replace the project's local rules",
      params: projectParams,
      body: Type.Array(ruleInputSchema, { maxItems: MAX_RULES_PER_WRITE }),
      response: { 200: Type.Partial(Type.Object({ project: Type.String(), count: Type.Integer() })), ...errors },
    },
  }, async (request) => {
    const count = await replaceLocalRules(ctx, request.params.project, request.body, request.actor);
    return { project: request.params.project, count };
  });

  api.post('/api/validate/:project', {
    config: { permission: 'write', act: 'validate' },
    schema: {
      tags: ['rules'],
      summary: 'Check content against the accepted rules of the project and _global',
      params: projectParams,
      body: validateBody,
      response: {
        200: Type.Partial(Type.Object({
          project: Type.String(),
          violations: Type.Array(violationSchema),
          count: Type.Integer(),
          truncated: Type.Boolean({ description: `Present (true) when the list is incomplete: more than ${MAX_VIOLATIONS} violations` }),
        })),
        400: errors[400],
        422: KoorErrorRef,
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

  api.post('/api/rules/propose', {
    config: { permission: 'propose', act: 'propose rules', auditAction: RULE_ACTIONS.propose },
    schema: {
      tags: ['rules'],
      summary: 'Propose a learned rule (status proposed); publishes rule.proposed',
      body: proposeBody,
      response: { 200: ruleStatusSchema, 400: errors[400], 409: KoorErrorRef },
    },
  }, async (request) => proposeRule(ctx, request.body, request.actor));

  for (const [verb, decide] of [['accept', acceptRule], ['reject', rejectRule]] as const) {
    api.post(`/api/rules/:project/:rule_id/${verb}`, {
      config: { permission: 'admin', act: `${verb} rules`, auditAction: RULE_ACTIONS[verb] },
      schema: {
        tags: ['rules'],
        summary: `${verb === 'accept' ? 'Accept' : 'Reject'} a proposed rule`,
        params: ruleParams,
        response: { 200: ruleStatusSchema, 404: errors[404] },
      },
    }, async (request) => decide(ctx, request.params.project, request.params.rule_id, request.actor));
  }

  api.delete('/api/rules/:project/:rule_id', {
    config: { permission: 'admin', act: 'delete rules', auditAction: RULE_ACTIONS.delete },
    schema: {
      tags: ['rules'],
      summary: 'Delete one rule, whatever its source and status',
      params: ruleParams,
      response: { 200: Type.Object({ deleted: Type.String() }), 404: errors[404] },
    },
  }, async (request) => deleteRule(ctx, request.params.project, request.params.rule_id, request.actor));

  api.get('/api/rules/export', {
    config: { permission: 'read' },
    schema: {
      tags: ['rules'],
      summary: `Accepted rules of the given sources (default ${DEFAULT_EXPORT_SOURCES.join(',')}), ready for import`,
      querystring: Type.Object({ source: Type.Optional(Type.String()) }),
      response: { 200: Type.Array(ruleSchema), 400: errors[400] },
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

  api.post('/api/rules/import', {
    config: { permission: 'admin', act: 'import rules', auditAction: RULE_ACTIONS.import },
    schema: {
      tags: ['rules'],
      summary: 'Upsert rules as accepted (source defaults to external; ?project= for rules without one)',
      querystring: Type.Object({ project: Type.Optional(projectParam) }),
      body: Type.Array(ruleInputSchema, { maxItems: MAX_RULES_PER_WRITE }),
      response: { 200: Type.Partial(Type.Object({ imported: Type.Integer() })), 400: errors[400] },
    },
  }, async (request) => ({ imported: await importRules(ctx, request.body, request.actor, { project: request.query.project }) }));
}
