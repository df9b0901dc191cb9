import { formatUptime } from '../kernel/duration.js';
import type { Actor, AppContext } from '../kernel/context.js';
import type { CallCounters } from './counters.js';
import { listInstances } from '../instances/instances.js';
import { lastEventId } from '../events/history.js';
import { countState } from '../state/state.js';

/**
 * The token-tax model. An MCP tool call puts its answer into the model's context; a REST/CLI
 * call does not. We estimate an MCP data call at ~500 tokens (a 2 KB answer plus the call
 * itself) and count every REST call as one such call the agent did not have to make.
 */
export const TOKENS_PER_MCP_CALL = 500;

// TokenTax and ServerMetrics are the static types of the route schemas (schemas.ts).
import type { ServerMetrics, TokenTax } from './schemas.js';
export type { ServerMetrics, TokenTax };

export function tokenTax(counters: CallCounters): TokenTax {
  const mcpTokens = counters.mcp * TOKENS_PER_MCP_CALL;
  const saved = counters.rest * TOKENS_PER_MCP_CALL;
  const spentOrSaved = mcpTokens + saved;
  return {
    mcp_calls: counters.mcp,
    rest_calls: counters.rest,
    total_calls: counters.mcp + counters.rest,
    mcp_estimated_tokens: mcpTokens,
    rest_tokens_saved: saved,
    savings_percent: spentOrSaved === 0 ? 0 : Math.round((saved / spentOrSaved) * 1000) / 10,
  };
}

export async function serverMetrics(ctx: AppContext): Promise<ServerMetrics> {
  const [stateKeys, instances, lastId] = await Promise.all([countState(ctx), listInstances(ctx), lastEventId(ctx)]);
  return {
    uptime: formatUptime(Date.now() - ctx.startedAt),
    uptime_seconds: Math.floor((Date.now() - ctx.startedAt) / 1000),
    state_keys: stateKeys,
    instances: instances.length,
    last_event_id: lastId,
    api_bind: ctx.config.bind,
    dashboard_bind: ctx.config.dashboardBind,
    durability: ctx.db.durability,
    token_tax: tokenTax(ctx.counters),
  };
}

/** The audit action of the metrics domain, named once. */
export const METRICS_ACTIONS = { reset: 'metrics.reset' } as const;

/** Zeroes the token-tax counters, recording what they held in the audit log. */
export async function resetTokenTax(ctx: AppContext, actor: Actor): Promise<void> {
  const before = { rest: ctx.counters.rest, mcp: ctx.counters.mcp };
  await ctx.commit(
    async () => ({
      value: undefined,
      audit: { actor: actor.id, action: METRICS_ACTIONS.reset, resource: 'token_tax', detail: `rest_calls ${before.rest}, mcp_calls ${before.mcp}` },
      afterCommit: () => ctx.counters.resetTokenTax(),
    }),
    { emits: false },
  );
}
