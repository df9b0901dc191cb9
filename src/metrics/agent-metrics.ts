import type { ReadQuery } from '../db/engine.js';
import type { AppContext } from '../kernel/context.js';
import type { WriteTx } from '../commit/change.js';
import type { CallCounters } from './counters.js';
import './tables.js';

type Pending = Map<string, Map<string, Map<string, number>>>;

// AgentMetricRecord and AgentMetricSummary are the static types of the route schemas (schemas.ts).
import type { AgentMetricRecord, AgentMetricSummary } from './schemas.js';
export type { AgentMetricRecord, AgentMetricSummary };

/**
 * Moves the in-memory agent counters into their hourly buckets. Each bucket is added to with
 * one upsert, so several flushes (or several replicas) add up instead of overwriting. Flushes
 * run one after another: a flush asked for while one runs starts when it ends, so "flush, then
 * read" always sees everything counted before the call.
 */
export class AgentMetricsFlusher {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly commit: AppContext['commit'],
    private readonly counters: CallCounters,
  ) {}

  flush(): Promise<void> {
    const run = this.queue.then(() => this.flushPending());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async flushPending(): Promise<void> {
    const pending = this.counters.drainAgentMetrics();
    const rows = toRows(pending);
    if (rows.length === 0) return;
    try {
      await this.commit(
        async (trx) => {
          // Kept well below SQLite's bound-parameter limit (4 values per row).
          for (let i = 0; i < rows.length; i += 200) await addToBuckets(trx, rows.slice(i, i + 200));
          return { value: undefined };
        },
        { emits: false },
      );
    } catch (err) {
      // Nothing was written: give the counts back so the next flush tries again.
      for (const row of rows) {
        this.counters.addAgentMetric(row.instance_id, row.metric_name, row.metric_value, periodStart(row.period));
      }
      throw err;
    }
  }
}

declare module '../kernel/context.js' {
  interface AppContext {
    /** Moves the agent counters into their hourly buckets (run by the metrics-flush job). */
    agentMetrics: AgentMetricsFlusher;
  }
}

/** Writes the app's not-yet-flushed agent counts now (before an export, say). */
export async function flushAgentMetrics(ctx: AppContext): Promise<void> {
  await ctx.agentMetrics.flush();
}

function toRows(pending: Pending): AgentMetricRecord[] {
  const rows: AgentMetricRecord[] = [];
  for (const [instanceId, periods] of pending) {
    for (const [period, metrics] of periods) {
      for (const [name, value] of metrics) rows.push({ instance_id: instanceId, metric_name: name, metric_value: value, period });
    }
  }
  return rows;
}

function periodStart(period: string): Date {
  return new Date(`${period}:00:00.000Z`);
}

async function addToBuckets(trx: WriteTx, rows: AgentMetricRecord[]): Promise<void> {
  await trx
    .insertInto('agent_metrics')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['instance_id', 'period', 'metric_name']).doUpdateSet((eb) => ({
        metric_value: eb(eb.ref('agent_metrics.metric_value'), '+', eb.ref('excluded.metric_value')),
      })),
    )
    .execute();
}

/**
 * Bucket rows of one instance (or all), oldest period first. `period` matches as a prefix and
 * holds only digits, '-' and 'T' (the route's schema checks), so it is safe inside LIKE.
 */
export async function agentMetricRows(db: ReadQuery, filter: { instanceId?: string; period?: string }): Promise<AgentMetricRecord[]> {
  let query = db.selectFrom('agent_metrics').select(['instance_id', 'metric_name', 'metric_value', 'period']);
  if (filter.instanceId !== undefined) query = query.where('instance_id', '=', filter.instanceId);
  if (filter.period) query = query.where('period', 'like', `${filter.period}%`);
  const rows = await query.orderBy('instance_id').orderBy('period').orderBy('metric_name').execute();
  return rows.map((row) => ({ ...row, metric_value: Number(row.metric_value) }));
}

/** Per-instance totals over the periods matching `period` (a prefix such as `2026-02-16`). */
export async function agentMetricSummary(db: ReadQuery, period?: string): Promise<AgentMetricSummary[]> {
  let query = db
    .selectFrom('agent_metrics')
    .select((eb) => ['instance_id', 'metric_name', eb.fn.sum<number>('metric_value').as('total')])
    .groupBy(['instance_id', 'metric_name']);
  if (period) query = query.where('period', 'like', `${period}%`);
  const rows = await query.orderBy('instance_id').orderBy('metric_name').execute();
  const summaries = new Map<string, AgentMetricSummary>();
  for (const row of rows) {
    let summary = summaries.get(row.instance_id);
    if (!summary) summaries.set(row.instance_id, (summary = { instance_id: row.instance_id, metrics: {} }));
    summary.metrics[row.metric_name] = Number(row.total);
  }
  return [...summaries.values()];
}
