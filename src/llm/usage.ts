import type { Actor, AppContext } from '../kernel/context.js';
import type { ReadQuery } from '../db/engine.js';
import type { LlmUsageRow } from './tables.js';
import './tables.js';

// UsageInput, UsageTotals and UsageSummary are the static types of the route schemas (schemas.ts).
import type { UsageInput, UsageSummary, UsageTotals } from './schemas.js';
export type { UsageInput, UsageSummary, UsageTotals };

export type UsageRecord = Omit<LlmUsageRow, 'id'> & { id: number };

export interface UsageFilter {
  instance?: string;
  project?: string;
  session_tag?: string;
  from?: string;
  to?: string;
  limit: number;
}

export const GROUP_BY = ['project', 'instance', 'model', 'session_tag'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

const GROUP_COLUMN = { project: 'project', instance: 'instance_id', model: 'model', session_tag: 'session_tag' } as const;


// Sums of binary floating-point costs pick up noise in the last digits (0.1 + 0.2); costs are
// shown rounded to a billionth of a dollar, far below any price step.
const roundCost = (usd: number) => Math.round(usd * 1e9) / 1e9;

/** Most tokens one recorded call may carry (far above any model's window). */
export const MAX_TOKENS_PER_CALL = 1e12;
/** Most dollars one recorded call may cost. */
export const MAX_COST_PER_CALL = 1e9;

/** The audit action of the LLM usage domain, named once. */
export const LLM_ACTIONS = { usage: 'llm.usage' } as const;

/**
 * Records one LLM call's usage (the calling instance when none is named), with its audit entry
 * and its `llm.usage.recorded` event.
 */
export async function recordUsage(ctx: AppContext, input: UsageInput, actor: Actor): Promise<UsageRecord> {
  const values = {
    created_at: new Date().toISOString(),
    provider: input.provider,
    model: input.model,
    instance_id: input.instance_id ?? actor.instanceId ?? '',
    project: input.project ?? '',
    tokens_in: input.tokens_in ?? 0,
    tokens_out: input.tokens_out ?? 0,
    cost_usd: input.cost_usd ?? 0,
    request_type: input.request_type ?? 'completion',
    session_tag: input.session_tag ?? '',
  };
  return ctx.commit(async (trx) => {
    const row = await trx.insertInto('llm_usage').values(values).returning('id').executeTakeFirstOrThrow();
    const record = { id: Number(row.id), ...values };
    return {
      value: record,
      audit: {
        actor: actor.id,
        action: LLM_ACTIONS.usage,
        resource: `${values.provider}/${values.model}`,
        detail: `usage ${row.id}: ${values.tokens_in} in, ${values.tokens_out} out, $${values.cost_usd}`,
      },
      events: [{ topic: 'llm.usage.recorded', data: record, source: actor.id }],
    };
  });
}

/** Usage records matching `filter`, newest first. */
export async function queryUsage(db: ReadQuery, filter: UsageFilter): Promise<UsageRecord[]> {
  let query = db.selectFrom('llm_usage').selectAll();
  if (filter.instance) query = query.where('instance_id', '=', filter.instance);
  if (filter.project) query = query.where('project', '=', filter.project);
  if (filter.session_tag) query = query.where('session_tag', '=', filter.session_tag);
  if (filter.from) query = query.where('created_at', '>=', filter.from);
  if (filter.to) query = query.where('created_at', '<=', filter.to);
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  return rows.map(toRecord);
}

function toRecord(row: UsageRecord): UsageRecord {
  return {
    ...row,
    id: Number(row.id),
    tokens_in: Number(row.tokens_in),
    tokens_out: Number(row.tokens_out),
    cost_usd: Number(row.cost_usd),
  };
}

/** Totals per group and overall, over the records in the time range. */
export async function summarizeUsage(db: ReadQuery, groupBy: GroupBy, range: { from?: string; to?: string }): Promise<UsageSummary> {
  const column = GROUP_COLUMN[groupBy];
  let query = db
    .selectFrom('llm_usage')
    .select((eb) => [
      eb.ref(column).as('group_key'),
      eb.fn.sum<number>('tokens_in').as('tokens_in'),
      eb.fn.sum<number>('tokens_out').as('tokens_out'),
      eb.fn.sum<number>('cost_usd').as('cost_usd'),
      eb.fn.countAll<number>().as('requests'),
    ])
    .groupBy(column);
  if (range.from) query = query.where('created_at', '>=', range.from);
  if (range.to) query = query.where('created_at', '<=', range.to);
  const rows = await query.orderBy(column).execute();

  const groups: Record<string, UsageTotals> = {};
  const total: UsageTotals = { total_tokens_in: 0, total_tokens_out: 0, total_cost_usd: 0, request_count: 0 };
  for (const row of rows) {
    const totals: UsageTotals = {
      total_tokens_in: Number(row.tokens_in),
      total_tokens_out: Number(row.tokens_out),
      total_cost_usd: roundCost(Number(row.cost_usd)),
      request_count: Number(row.requests),
    };
    groups[String(row.group_key)] = totals;
    total.total_tokens_in += totals.total_tokens_in;
    total.total_tokens_out += totals.total_tokens_out;
    total.total_cost_usd += Number(row.cost_usd);
    total.request_count += totals.request_count;
  }
  total.total_cost_usd = roundCost(total.total_cost_usd);
  return { group_by: groupBy, from: range.from ?? '', to: range.to ?? '', groups, total };
}
