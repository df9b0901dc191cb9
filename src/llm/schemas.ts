// Schemas of the LLM usage routes: they validate requests, shape answers, write the OpenAPI
// document and give the handlers and the domain (UsageInput, UsageTotals, UsageSummary) their types.
import { StringEnum, StringMap, Type, type Static, type TSchema } from '../kernel/schema.js';
import { GROUP_BY, MAX_COST_PER_CALL, MAX_TOKENS_PER_CALL, type GroupBy } from './usage.js';

/** Records one GET /api/llm/usage answers unless ?limit= says otherwise. */
export const DEFAULT_USAGE_LIMIT = 50;
/** How GET /api/llm/usage/summary groups unless ?group_by= says otherwise. */
export const DEFAULT_GROUP_BY: GroupBy = 'project';

const text = (maxLength: number) => Type.Optional(Type.String({ maxLength }));

export const usageBody = Type.Object({
  provider: Type.String({ minLength: 1, maxLength: 200 }),
  model: Type.String({ minLength: 1, maxLength: 200 }),
  instance_id: text(200),
  project: text(200),
  // Bounded so that no number of records can sum past what a total can hold: two records of
  // 1e308 summed to Infinity, which JSON writes as null.
  tokens_in: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TOKENS_PER_CALL })),
  tokens_out: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TOKENS_PER_CALL })),
  cost_usd: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_COST_PER_CALL })),
  request_type: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  session_tag: text(200),
});
export type UsageInput = Static<typeof usageBody>;

export const recordSchema = Type.Object({
  id: Type.Integer(),
  created_at: Type.String(),
  provider: Type.String(),
  model: Type.String(),
  instance_id: Type.String(),
  project: Type.String(),
  tokens_in: Type.Integer(),
  tokens_out: Type.Integer(),
  cost_usd: Type.Number(),
  request_type: Type.String(),
  session_tag: Type.String(),
});

export const totalsSchema = Type.Object({
  total_tokens_in: Type.Integer(),
  total_tokens_out: Type.Integer(),
  total_cost_usd: Type.Number(),
  request_count: Type.Integer(),
});
export type UsageTotals = Static<typeof totalsSchema>;

export const summarySchema = Type.Object({
  group_by: Type.Unsafe<GroupBy>({ type: 'string' } as TSchema),
  from: Type.String(),
  to: Type.String(),
  groups: StringMap(totalsSchema),
  total: totalsSchema,
});
export type UsageSummary = Static<typeof summarySchema>;

const range = {
  from: Type.Optional(Type.String({ description: 'Earliest time, inclusive (RFC 3339 or YYYY-MM-DD, UTC)' })),
  to: Type.Optional(Type.String({ description: 'Latest time, inclusive (RFC 3339 or YYYY-MM-DD, UTC)' })),
};

export const usageQuery = Type.Object({
  instance: Type.Optional(Type.String({ description: 'Instance id' })),
  project: Type.Optional(Type.String()),
  session_tag: Type.Optional(Type.String()),
  ...range,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_USAGE_LIMIT })),
});

export const summaryQuery = Type.Object({ group_by: Type.Optional(StringEnum(GROUP_BY, { default: DEFAULT_GROUP_BY })), ...range });
