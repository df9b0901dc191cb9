// Schemas of the rules routes (and of the templates domain, which stores rules): they
// validate requests, shape answers, write the OpenAPI document and give the handlers, the
// domain (RuleInput, Rule, ProposeInput, RuleStatus, ValidateInput, Violation) and the MCP
// propose_rule tool their types.
import { StringEnum, Type, type Static } from '../kernel/schema.js';
import { MATCH_TYPES, SEVERITIES, SOURCES } from './rules.js';

export const projectParam = Type.String({ minLength: 1, maxLength: 200 });

/** The fields of a rule as callers send it; a route says which of them it requires. */
export const ruleInputFields = {
  project: Type.String({ minLength: 1, maxLength: 200 }),
  rule_id: Type.String({ minLength: 1, maxLength: 200 }),
  severity: StringEnum(SEVERITIES),
  match_type: StringEnum(MATCH_TYPES),
  pattern: Type.String({ minLength: 1, maxLength: 10_000 }),
  message: Type.String(),
  applies_to: Type.Array(Type.String()),
  stack: Type.String(),
  source: StringEnum(SOURCES),
  status: Type.String(),
  proposed_by: Type.String(),
  context: Type.String(),
  created_at: Type.String(),
};

export const ruleInputSchema = Type.Object({
  ...Type.Partial(Type.Object(ruleInputFields)).properties,
  rule_id: ruleInputFields.rule_id,
  pattern: ruleInputFields.pattern,
});

/**
 * A rule as callers send it. Rules that did not come through a route (templates, backups) are
 * checked again by normalizeRule, so even `rule_id` and `pattern` may be missing here.
 */
export type RuleInput = Partial<Static<typeof ruleInputSchema>>;

/** What POST /api/rules/propose takes: a rule input with its project. */
export const proposeBody = Type.Object({
  ...ruleInputSchema.properties,
  project: ruleInputFields.project,
});
export type ProposeInput = Static<typeof proposeBody>;

const text = Type.String();
export const ruleSchema = Type.Partial(Type.Object({
  project: text,
  rule_id: text,
  severity: text,
  match_type: text,
  pattern: text,
  message: text,
  applies_to: Type.Array(Type.String()),
  stack: text,
  source: text,
  status: text,
  proposed_by: text,
  context: text,
  created_at: text,
}));
/** A stored rule: every field is always there (the answer's schema leaves them optional). */
export type Rule = Required<Static<typeof ruleSchema>>;

export const ruleStatusSchema = Type.Partial(Type.Object({ project: text, rule_id: text, status: text }));
export type RuleStatus = Required<Static<typeof ruleStatusSchema>>;

export const validateBody = Type.Object({
  filename: Type.Optional(Type.String()),
  content: Type.String(),
  stack: Type.Optional(Type.String()),
});
export type ValidateInput = Static<typeof validateBody>;

/** How many rules a project has in each status. */
export const ruleCountsSchema = Type.Object({ accepted: Type.Integer(), proposed: Type.Integer(), rejected: Type.Integer() });
export type RuleCounts = Static<typeof ruleCountsSchema>;

export const violationSchema = Type.Object({
  rule_id: Type.String(),
  severity: Type.String(),
  message: Type.String(),
  line: Type.Optional(Type.Integer()),
  match: Type.Optional(Type.String()),
});
export type Violation = Static<typeof violationSchema>;
