import type { Actor, AppContext } from '../kernel/context.js';
import { HttpError, badRequest, conflict, notFound } from '../kernel/errors.js';
import { combineChanges, type Change } from '../commit/change.js';
import { MAX_RULES_PER_WRITE, checkPatternsOffLoop, upsertRulesIn, normalizeRule, type Rule, type RuleInput } from '../rules/rules.js';
import { contractDocumentProblem } from '../contracts/document.js';
import type { WorkPool } from '../kernel/work-pool.js';
import { putSpecIn } from '../specs/specs.js';
import type { TemplateRow } from './tables.js';
import './tables.js';

// A template packages rules or contracts for reuse across projects. Its `data` by kind:
//   rules     → an array of rules (as for POST /api/rules/import; project is set on apply)
//   contracts → an object: spec name → contract document, or (Go Koor's form) one contract
//               document, stored on apply as the spec named after the template
//   bundle    → {rules?: [...], contracts?: {...}}
// Templates never change once created (as in Go Koor): `version` is always 1 and
// `updated_at` is `created_at`; both are shown because Go Koor's clients read them.

export const TEMPLATE_KINDS = ['rules', 'contracts', 'bundle'] as const;

/** The audit actions of the templates domain, named once. */
export const TEMPLATE_ACTIONS = { create: 'template.create', delete: 'template.delete', apply: 'template.apply' } as const;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export interface TemplateSummary {
  id: string;
  name: string;
  description: string;
  kind: string;
  tags: string[];
  version: number;
  created_at: string;
  updated_at: string;
}

export interface Template extends TemplateSummary {
  data: unknown;
}

// The static type of the create route's body schema (schemas.ts).
import type { TemplateInput } from './schemas.js';
export type { TemplateInput };

interface TemplateParts {
  rules: RuleInput[];
  contracts: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A single contract document where a map of them may stand (Go Koor's `contracts` templates). */
const isOneContract = (data: unknown): data is Record<string, unknown> => isObject(data) && data.kind === 'contract';

/** Splits a template's data into its rules and contracts, checking each; 400 naming the problem. */
async function partsOf(work: WorkPool, id: string, kind: string, data: unknown): Promise<TemplateParts> {
  let rules: unknown = [];
  let contracts: unknown = {};
  if (kind === 'rules') rules = data;
  else if (kind === 'contracts') contracts = isOneContract(data) ? { [id]: data } : data;
  else {
    if (!isObject(data)) throw badRequest('data of a bundle template must be an object {rules?, contracts?}');
    rules = data.rules ?? [];
    contracts = data.contracts ?? {};
  }
  const rulesField = kind === 'bundle' ? 'data.rules' : 'data';
  if (!Array.isArray(rules)) throw badRequest(`${rulesField} must be an array of rules`);
  if (rules.length > MAX_RULES_PER_WRITE) throw badRequest(`${rulesField} holds ${rules.length} rules; a template may hold ${MAX_RULES_PER_WRITE}`);
  if (!isObject(contracts)) throw badRequest(`data${kind === 'bundle' ? '.contracts' : ''} must be an object mapping spec names to contracts`);
  if (rules.length === 0 && Object.keys(contracts).length === 0) throw badRequest('data holds no rules and no contracts');
  // A big rule set's patterns are compiled in the worker pool first (see checkPatternsOffLoop).
  await checkPatternsOffLoop(work, rules);
  rules.forEach((rule, i) => {
    if (!isObject(rule)) throw badRequest(`data rules[${i}] must be an object`);
    // Checked against a stand-in project: the real one is known only when applied.
    normalizeRule(rule as RuleInput, { project: '_template' });
  });
  for (const [name, doc] of Object.entries(contracts)) {
    if (name === '' || name.length > 256) throw badRequest(`contract name "${name}" must be 1 to 256 characters`);
    // Its JSON Schemas are compiled in the worker pool when big (see contractDocumentProblem).
    const problem = await contractDocumentProblem(work, doc);
    if (problem) throw badRequest(`contract "${name}": ${problem}`);
  }
  return { rules: rules as RuleInput[], contracts };
}

/**
 * What is wrong with a stored template row (an import brings rows, not requests), or null:
 * the same checks as `POST /api/templates`, with the field named.
 */
export async function templateRowProblem(ctx: AppContext, row: Record<string, unknown>): Promise<string | null> {
  const { id, name, kind, data } = row;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) return `id ${JSON.stringify(id)} must be 1-200 letters, digits, '.', '_' or '-'`;
  if (typeof name !== 'string' || !name.trim()) return 'name must be a non-empty string';
  if (typeof kind !== 'string' || !(TEMPLATE_KINDS as readonly string[]).includes(kind)) return `kind must be one of ${TEMPLATE_KINDS.join(', ')} (got ${JSON.stringify(kind)})`;
  if (typeof data !== 'string') return 'data must be JSON text';
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (err) {
    return `data is not JSON (${(err as Error).message})`;
  }
  try {
    await partsOf(ctx.work, id, kind, parsed);
  } catch (err) {
    if (err instanceof HttpError && err.status === 400) return `data: ${err.message}`;
    throw err;
  }
  return null;
}

function summaryOf(row: TemplateRow): TemplateSummary {
  let tags: string[] = [];
  try {
    tags = JSON.parse(row.tags) as string[];
  } catch {
    // Tags are a convenience; a damaged list reads as none.
  }
  return { id: row.id, name: row.name, description: row.description, kind: row.kind, tags, version: 1, created_at: row.created_at, updated_at: row.created_at };
}

/** The template as created, with its data (Go Koor answers a create with all of it). */
export async function createTemplate(ctx: AppContext, input: TemplateInput, actor: Actor): Promise<Template> {
  const kind = input.kind ?? 'rules';
  if (!ID_PATTERN.test(input.id)) throw badRequest(`id "${input.id}" must be 1-200 letters, digits, '.', '_' or '-'`);
  if (!input.name.trim()) throw badRequest('name must not be empty');
  if (!(TEMPLATE_KINDS as readonly string[]).includes(kind)) throw badRequest(`kind must be one of ${TEMPLATE_KINDS.join(', ')} (got "${kind}")`);
  await partsOf(ctx.work, input.id, kind, input.data);
  const row: TemplateRow = {
    id: input.id,
    name: input.name.trim(),
    description: input.description ?? '',
    kind,
    data: JSON.stringify(input.data),
    tags: JSON.stringify([...new Set(input.tags ?? [])]),
    created_at: new Date().toISOString(),
  };
  return ctx.commit(async (trx) => {
    const existing = await trx.selectFrom('templates').select('id').where('id', '=', input.id).executeTakeFirst();
    if (existing) throw conflict(`template already exists: ${input.id}`);
    await trx.insertInto('templates').values(row).execute();
    return { value: { ...summaryOf(row), data: input.data }, audit: { actor: actor.id, action: TEMPLATE_ACTIONS.create, resource: input.id, detail: kind } };
  });
}

/** Templates without their data, optionally of one kind and carrying one tag. */
export async function listTemplates(ctx: AppContext, filter: { kind?: string; tag?: string } = {}): Promise<TemplateSummary[]> {
  let query = ctx.db.query.selectFrom('templates').select(['id', 'name', 'description', 'kind', 'tags', 'created_at']);
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  const rows = await query.orderBy('id').execute();
  const summaries = rows.map((row) => summaryOf({ ...row, data: '' }));
  return filter.tag ? summaries.filter((t) => t.tags.includes(filter.tag!)) : summaries;
}

export async function getTemplate(ctx: AppContext, id: string): Promise<Template> {
  const row = await ctx.db.query.selectFrom('templates').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('template', id);
  return { ...summaryOf(row), data: JSON.parse(row.data) as unknown };
}

export async function deleteTemplate(ctx: AppContext, id: string, actor: Actor): Promise<{ deleted: string }> {
  return ctx.commit(async (trx) => {
    const removed = await trx.deleteFrom('templates').where('id', '=', id).executeTakeFirst();
    if (Number(removed.numDeletedRows) === 0) throw notFound('template', id);
    return { value: { deleted: id }, audit: { actor: actor.id, action: TEMPLATE_ACTIONS.delete, resource: id } };
  });
}

import type { ApplyResult } from './schemas.js';
export type { ApplyResult };

/**
 * Applies a template to a project: its rules are imported as accepted rules of the project,
 * its contracts stored as the project's specs (a new version when the name exists).
 */
export async function applyTemplate(ctx: AppContext, id: string, project: string, actor: Actor): Promise<ApplyResult> {
  if (!project.trim() || project.includes('/')) throw badRequest(`project "${project}" must be non-empty and must not contain /`);
  const template = await getTemplate(ctx, id);
  const parts = await partsOf(ctx.work, template.id, template.kind, template.data);
  const now = new Date().toISOString();
  const rules: Rule[] = parts.rules.map((input) =>
    normalizeRule({ ...input, project, status: 'accepted' }, { project, source: 'external', created_at: now }),
  );
  const contracts = Object.entries(parts.contracts);
  const result: ApplyResult = { applied: id, project, kind: template.kind, rules: rules.length, contracts: contracts.length };
  // One change: the rules, every contract (each a spec write with its own audit entry and
  // event) and the apply's audit entry commit together, or nothing does.
  return ctx.commit(async (trx) => {
    const written: Change<unknown>[] = [await upsertRulesIn(trx, rules)];
    for (const [name, doc] of contracts) {
      written.push(await putSpecIn(ctx, trx, { project, name, data: Buffer.from(JSON.stringify(doc, null, 2)) }, actor));
    }
    const detail = `project ${project}: ${rules.length} rules, ${contracts.length} contracts`;
    return combineChanges(result, written, { audit: { actor: actor.id, action: TEMPLATE_ACTIONS.apply, resource: id, detail } });
  });
}
