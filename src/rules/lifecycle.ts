import type { AppContext, Actor } from '../kernel/context.js';
import { conflict, notFound } from '../kernel/errors.js';
import { RULE_ACTIONS, getRule, normalizeRule, upsertRule } from './rules.js';

// A rule learned by an agent starts as `proposed`; a human (or lead agent) accepts or rejects
// it. Only accepted rules fire.

// ProposeInput and RuleStatus are the static types of the route schemas (schemas.ts).
import type { ProposeInput, RuleStatus } from './schemas.js';
export type { ProposeInput, RuleStatus };

/**
 * Records a learned rule as proposed and publishes `rule.proposed`. Re-proposing a proposed or
 * rejected rule replaces it; an accepted rule of that id is a 409.
 */
export async function proposeRule(ctx: AppContext, input: ProposeInput, actor: Actor): Promise<RuleStatus> {
  const rule = normalizeRule(
    { ...input, source: 'learned', status: 'proposed', proposed_by: input.proposed_by || actor.id },
    { project: input.project },
  );
  return ctx.commit(async (trx) => {
    const existing = await getRule(trx, rule.project, rule.rule_id);
    if (existing?.status === 'accepted') {
      throw conflict(`rule already accepted: ${rule.project}/${rule.rule_id}`);
    }
    await upsertRule(trx, rule);
    return {
      value: { project: rule.project, rule_id: rule.rule_id, status: 'proposed' },
      audit: { actor: actor.id, action: RULE_ACTIONS.propose, resource: `${rule.project}/${rule.rule_id}` },
      events: [{
        topic: 'rule.proposed',
        data: { project: rule.project, rule_id: rule.rule_id, severity: rule.severity, pattern: rule.pattern, message: rule.message, proposed_by: rule.proposed_by },
        source: actor.id,
      }],
    };
  });
}

async function decide(ctx: AppContext, project: string, ruleId: string, status: 'accepted' | 'rejected', actor: Actor): Promise<RuleStatus> {
  const action = status === 'accepted' ? RULE_ACTIONS.accept : RULE_ACTIONS.reject;
  return ctx.commit(async (trx) => {
    const updated = await trx
      .updateTable('rules')
      .set({ status })
      .where('project', '=', project)
      .where('rule_id', '=', ruleId)
      .where('status', '=', 'proposed')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) throw notFound('proposed rule', `${project}/${ruleId}`);
    return { value: { project, rule_id: ruleId, status }, audit: { actor: actor.id, action, resource: `${project}/${ruleId}` } };
  });
}

/** Accepts a proposed rule; 404 unless it is proposed. */
export const acceptRule = (ctx: AppContext, project: string, ruleId: string, actor: Actor) => decide(ctx, project, ruleId, 'accepted', actor);

/** Rejects a proposed rule; 404 unless it is proposed. */
export const rejectRule = (ctx: AppContext, project: string, ruleId: string, actor: Actor) => decide(ctx, project, ruleId, 'rejected', actor);

/**
 * Deletes one rule of any source and status (a learned or external rule has no other way out;
 * local ones can also be replaced with PUT /api/validate/{project}/rules). 404 when absent.
 */
export async function deleteRule(ctx: AppContext, project: string, ruleId: string, actor: Actor): Promise<{ deleted: string }> {
  const resource = `${project}/${ruleId}`;
  return ctx.commit(async (trx) => {
    const removed = await trx.deleteFrom('rules').where('project', '=', project).where('rule_id', '=', ruleId).executeTakeFirst();
    if (Number(removed.numDeletedRows) === 0) throw notFound('rule', resource);
    return { value: { deleted: resource }, audit: { actor: actor.id, action: RULE_ACTIONS.delete, resource } };
  });
}
