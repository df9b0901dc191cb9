// Schemas of the metrics routes: they validate requests, shape answers, write the OpenAPI
// document and give the handlers and the domain (TokenTax, ServerMetrics, AgentMetricRecord,
// AgentMetricSummary) their types.
import { StringEnum, StringMap, Type, type Static } from '../kernel/schema.js';

export const periodSchema = Type.String({
  pattern: '^[0-9][0-9T-]{0,12}$',
  description: 'Prefix of the hourly period YYYY-MM-DDTHH (UTC), e.g. 2026-02 or 2026-02-16T14',
});

export const rowSchema = Type.Object({
  instance_id: Type.String(),
  metric_name: Type.String(),
  metric_value: Type.Number(),
  period: Type.String(),
});
export type AgentMetricRecord = Static<typeof rowSchema>;

export const summarySchema = Type.Object({ instance_id: Type.String(), metrics: StringMap(Type.Number()) });
export type AgentMetricSummary = Static<typeof summarySchema>;

export const tokenTaxSchema = Type.Object({
  mcp_calls: Type.Integer(),
  rest_calls: Type.Integer(),
  total_calls: Type.Integer(),
  mcp_estimated_tokens: Type.Integer(),
  rest_tokens_saved: Type.Integer(),
  /** Share of the estimated tokens that REST kept out of context, in percent (one decimal). */
  savings_percent: Type.Number(),
});
export type TokenTax = Static<typeof tokenTaxSchema>;

export const serverMetricsSchema = Type.Object({
  /** Go's duration text ("3h24m10s"), as Go Koor's clients read it. */
  uptime: Type.String({ description: 'Time since start as Go writes durations, e.g. 3h24m10s' }),
  uptime_seconds: Type.Integer({ description: 'Seconds since start' }),
  state_keys: Type.Integer(),
  instances: Type.Integer(),
  last_event_id: Type.Integer(),
  api_bind: Type.String(),
  dashboard_bind: Type.String(),
  /** `full` when an acknowledged write survives a power loss (see Db.durability). */
  durability: StringEnum(['full', 'normal'], {
    description: 'full: an acknowledged write survives a power loss; normal: the last ones before it may be lost (--sqlite-synchronous normal)',
  }),
  token_tax: tokenTaxSchema,
});
export type ServerMetrics = Static<typeof serverMetricsSchema>;
