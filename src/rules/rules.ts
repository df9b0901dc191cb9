import type { AppContext, Actor } from '../kernel/context.js';
import type { Executor } from '../db/engine.js';
import { badRequest } from '../kernel/errors.js';
import type { Change, WriteTx } from '../commit/change.js';
import { checkGlob } from './glob.js';
import { CUSTOM_CHECKS, markPatternsGood, patternError, patternWeight } from './patterns.js';
import type { WorkPool } from '../kernel/work-pool.js';
import type { RuleRow } from './tables.js';
import './tables.js';

/** The project whose rules apply to every project. */
export const GLOBAL_PROJECT = '_global';

/** The audit actions of the rules domain, named once. */
export const RULE_ACTIONS = {
  put: 'rules.put',
  import: 'rules.import',
  propose: 'rule.propose',
  accept: 'rule.accept',
  reject: 'rule.reject',
  delete: 'rule.delete',
} as const;

export const SEVERITIES = ['error', 'warning'] as const;
export const MATCH_TYPES = ['regex', 'missing', 'custom'] as const;
export const SOURCES = ['local', 'learned', 'external'] as const;
/** What an export takes when asked for no source: the rules written here, not the imported ones. */
export const DEFAULT_EXPORT_SOURCES: readonly string[] = ['local', 'learned'];
export const STATUSES = ['accepted', 'proposed', 'rejected'] as const;

/**
 * Most rules one write stores (a PUT, an import, a template). Storing them is one transaction
 * on the event loop: 60 000 rules held the server for about 3 s; 10 000 take about half a
 * second, far beyond any real rule set.
 */
export const MAX_RULES_PER_WRITE = 10_000;

// Rule and RuleInput are the static types of the route schemas (schemas.ts).
import type { Rule, RuleInput } from './schemas.js';
export type { Rule, RuleInput };

function oneOf(value: string, allowed: readonly string[], field: string, ruleId: string): string {
  if (!allowed.includes(value)) {
    throw badRequest(`rule "${ruleId}": ${field} must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value;
}

/** The reason `pattern` cannot be used by a rule of `matchType`, or null. */
export function rulePatternError(matchType: string, pattern: string): string | null {
  // A custom rule naming a built-in check has no regex to compile.
  if (matchType === 'custom' && CUSTOM_CHECKS[pattern]) return null;
  return patternError(pattern);
}

/**
 * Checks and completes one rule. Every problem is a 400 naming the rule and the field; an
 * invalid pattern names RE2's reason.
 */
export function normalizeRule(input: RuleInput, defaults: Partial<Rule> & { project: string }): Rule {
  const ruleId = typeof input.rule_id === 'string' ? input.rule_id.trim() : '';
  if (!ruleId) throw badRequest('rule_id is required');
  if (ruleId.length > 200) throw badRequest(`rule "${ruleId.slice(0, 40)}…": rule_id is longer than 200 characters`);
  const project = (input.project ?? defaults.project).trim();
  if (!project) throw badRequest(`rule "${ruleId}": project is required`);
  const matchType = oneOf(input.match_type ?? defaults.match_type ?? 'regex', MATCH_TYPES, 'match_type', ruleId);
  const pattern = input.pattern ?? '';
  if (pattern === '') throw badRequest(`rule "${ruleId}": pattern is required`);
  const problem = rulePatternError(matchType, pattern);
  if (problem) throw badRequest(`rule "${ruleId}": invalid pattern: ${problem}`);
  const appliesTo = input.applies_to ?? [];
  if (!Array.isArray(appliesTo) || appliesTo.some((g) => typeof g !== 'string')) {
    throw badRequest(`rule "${ruleId}": applies_to must be an array of globs`);
  }
  for (const glob of appliesTo) {
    const globProblem = checkGlob(glob);
    if (globProblem) throw badRequest(`rule "${ruleId}": applies_to: ${globProblem}`);
  }
  return {
    project,
    rule_id: ruleId,
    severity: oneOf(input.severity ?? defaults.severity ?? 'error', SEVERITIES, 'severity', ruleId),
    match_type: matchType,
    pattern,
    message: input.message ?? defaults.message ?? '',
    applies_to: appliesTo,
    stack: input.stack ?? defaults.stack ?? '',
    source: oneOf(input.source ?? defaults.source ?? 'local', SOURCES, 'source', ruleId),
    status: oneOf(input.status ?? defaults.status ?? 'accepted', STATUSES, 'status', ruleId),
    proposed_by: input.proposed_by ?? defaults.proposed_by ?? '',
    context: input.context ?? defaults.context ?? '',
    created_at: input.created_at ?? defaults.created_at ?? new Date().toISOString(),
  };
}

export function ruleFromRow(row: RuleRow): Rule {
  let appliesTo: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.applies_to);
    if (Array.isArray(parsed)) appliesTo = parsed.filter((g): g is string => typeof g === 'string');
  } catch {
    // A damaged column reads as "applies everywhere" rather than failing every validation.
  }
  return { ...row, applies_to: appliesTo };
}

export function rowFromRule(rule: Rule): RuleRow {
  return { ...rule, applies_to: JSON.stringify(rule.applies_to) };
}

/** Inserts or replaces one rule (keyed by project and rule_id). */
export async function upsertRule(executor: Executor, rule: Rule): Promise<void> {
  const row = rowFromRule(rule);
  const { project: _p, rule_id: _r, ...rest } = row;
  await executor
    .insertInto('rules')
    .values(row)
    .onConflict((oc) => oc.columns(['project', 'rule_id']).doUpdateSet(rest))
    .execute();
}

export async function getRule(executor: Executor, project: string, ruleId: string): Promise<Rule | null> {
  const row = await executor.selectFrom('rules').selectAll().where('project', '=', project).where('rule_id', '=', ruleId).executeTakeFirst();
  return row ? ruleFromRow(row) : null;
}

/** A rule with a stack applies only when the caller names that stack; universal rules always. */
export function ruleFitsStack(rule: Rule, stack: string | undefined): boolean {
  if (!stack) return true;
  return rule.stack === '' || rule.stack.toLowerCase() === stack.toLowerCase();
}

export interface RuleFilter {
  /** `accepted` (default), `proposed`, `rejected` or `all`. */
  status?: string;
  stack?: string;
  /** Also include `_global` rules (default true). */
  includeGlobal?: boolean;
}

/** The rules that apply to `project`: its own plus `_global`, filtered by status and stack. */
export async function listRules(ctx: AppContext, project: string, filter: RuleFilter = {}): Promise<Rule[]> {
  const projects = filter.includeGlobal === false || project === GLOBAL_PROJECT ? [project] : [project, GLOBAL_PROJECT];
  let query = ctx.db.query.selectFrom('rules').selectAll().where('project', 'in', projects);
  const status = filter.status ?? 'accepted';
  if (status !== 'all') query = query.where('status', '=', status);
  const rows = await query.orderBy('project').orderBy('rule_id').execute();
  return rows.map(ruleFromRow).filter((rule) => ruleFitsStack(rule, filter.stack));
}

const PATTERN_TASK = new URL('./scan-task.js', import.meta.url);
/**
 * Most total pattern weight (see patternWeight) compiled on the event loop when rules are
 * written: about 10 ms. Ten thousand costly patterns took 18 s to compile there.
 */
const INLINE_PATTERN_WEIGHT = 250_000;

/**
 * Compiles the patterns of a big rule set in the worker pool (under the work budget) before
 * `normalizeRule` checks each rule, so that it finds them compiled and the event loop does not
 * pay for them. Patterns that fail are left to `normalizeRule`, which names the rule.
 */
export async function checkPatternsOffLoop(work: WorkPool, inputs: readonly unknown[]): Promise<void> {
  const patterns = [...new Set(inputs.flatMap((input) => {
    const pattern = (input as { pattern?: unknown } | null)?.pattern;
    return typeof pattern === 'string' && pattern !== '' ? [pattern] : [];
  }))];
  let weight = 0;
  for (const pattern of patterns) weight += patternWeight(pattern);
  if (weight <= INLINE_PATTERN_WEIGHT) return;
  const problems = await work.run<(string | null)[]>(PATTERN_TASK, 'patternProblems', { patterns }, 'rule pattern check');
  markPatternsGood(patterns.filter((_, i) => problems[i] === null));
}

/** Replaces the project's local rules with `inputs` (all checked before anything changes). */
export async function replaceLocalRules(ctx: AppContext, project: string, inputs: RuleInput[], actor: Actor): Promise<number> {
  await checkPatternsOffLoop(ctx.work, inputs);
  const now = new Date().toISOString();
  const rules = inputs.map((input) =>
    // The URL names the project and PUT manages local, accepted rules only.
    normalizeRule({ ...input, project, source: 'local', status: 'accepted' }, { project, created_at: now }),
  );
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.rule_id)) throw badRequest(`rule "${rule.rule_id}" appears twice`);
    seen.add(rule.rule_id);
  }
  return ctx.commit(async (trx) => {
    await trx.deleteFrom('rules').where('project', '=', project).where('source', '=', 'local').execute();
    for (const rule of rules) await upsertRule(trx, rule);
    return { value: rules.length, audit: { actor: actor.id, action: RULE_ACTIONS.put, resource: project, detail: `${rules.length} rules` } };
  });
}

/** Upserts `inputs` as accepted rules (source defaults to external). */
export async function importRules(ctx: AppContext, inputs: RuleInput[], actor: Actor, defaults: { project?: string } = {}): Promise<number> {
  if (inputs.length === 0) throw badRequest('rules: the array is empty');
  await checkPatternsOffLoop(ctx.work, inputs);
  const now = new Date().toISOString();
  const rules = inputs.map((input, index) => {
    const project = input.project ?? defaults.project;
    if (!project) throw badRequest(`rules[${index}] ("${input.rule_id ?? ''}"): project is required`);
    return normalizeRule({ ...input, status: 'accepted' }, { project, source: 'external', created_at: now });
  });
  return ctx.commit(async (trx) => {
    await upsertRulesIn(trx, rules);
    const projects = [...new Set(rules.map((r) => r.project))].join(',');
    return { value: rules.length, audit: { actor: actor.id, action: RULE_ACTIONS.import, resource: projects, detail: `${rules.length} rules` } };
  });
}

/**
 * Writes already-normalized rules as a part of a change. The composite change records the
 * audit entry for the operation it performs (an import, a template apply).
 */
export async function upsertRulesIn(trx: WriteTx, rules: Rule[]): Promise<Change<number>> {
  for (const rule of rules) await upsertRule(trx, rule);
  return { value: rules.length };
}

/** Accepted rules whose source is one of `sources`, across every project. */
export async function exportRules(ctx: AppContext, sources: string[]): Promise<Rule[]> {
  if (sources.length === 0) return []; // `in ()` is an error on PostgreSQL
  const rows = await ctx.db.query
    .selectFrom('rules')
    .selectAll()
    .where('status', '=', 'accepted')
    .where('source', 'in', sources)
    .orderBy('project')
    .orderBy('rule_id')
    .execute();
  return rows.map(ruleFromRow);
}

import type { RuleCounts } from './schemas.js';
export type { RuleCounts };

/** How many rules each project has, by status (for the list of projects). */
export async function ruleCountsByProject(ctx: AppContext): Promise<Map<string, RuleCounts>> {
  const rows = await ctx.db.query
    .selectFrom('rules')
    .select(['project', 'status', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy(['project', 'status'])
    .execute();
  const counts = new Map<string, RuleCounts>();
  for (const row of rows) {
    const entry = counts.get(row.project) ?? { accepted: 0, proposed: 0, rejected: 0 };
    if (row.status === 'accepted' || row.status === 'proposed' || row.status === 'rejected') entry[row.status] = Number(row.count);
    counts.set(row.project, entry);
  }
  return counts;
}
