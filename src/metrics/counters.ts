const HOUR_MS = 3_600_000;

/** Which plane a call came through; the token tax compares the two. */
export type CallPlane = 'rest' | 'mcp';

/**
 * In-memory call and per-agent counters. Counting never touches the database on the request
 * path; the metrics domain flushes agent counters to hourly buckets on an interval.
 */
export class CallCounters {
  rest = 0;
  mcp = 0;
  /** instance id → period (`YYYY-MM-DDTHH`) → metric name → value, not yet flushed. */
  pending = new Map<string, Map<string, Map<string, number>>>();

  countCall(plane: CallPlane, instanceId?: string): void {
    if (plane === 'rest') this.rest++;
    else this.mcp++;
    if (instanceId) this.addAgentMetric(instanceId, plane === 'rest' ? 'rest_calls' : 'mcp_calls');
  }

  addAgentMetric(instanceId: string, name: string, by = 1, at?: Date): void {
    const period = this.periodOf(at ? at.getTime() : Date.now());
    let periods = this.pending.get(instanceId);
    if (!periods) this.pending.set(instanceId, (periods = new Map()));
    let metrics = periods.get(period);
    if (!metrics) periods.set(period, (metrics = new Map()));
    metrics.set(name, (metrics.get(name) ?? 0) + by);
  }

  // Formatting a date costs microseconds on this path (every call of an agent); the current
  // hour's name is kept and only recomputed when the clock leaves that hour.
  private hour = { start: 0, end: 0, period: '' };

  private periodOf(ms: number): string {
    if (ms >= this.hour.start && ms < this.hour.end) return this.hour.period;
    const start = ms - (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS);
    this.hour = { start, end: start + HOUR_MS, period: new Date(start).toISOString().slice(0, 13) };
    return this.hour.period;
  }

  /** Hands over everything counted since the last drain and starts afresh. */
  drainAgentMetrics(): Map<string, Map<string, Map<string, number>>> {
    const drained = this.pending;
    this.pending = new Map();
    return drained;
  }

  resetTokenTax(): void {
    this.rest = 0;
    this.mcp = 0;
  }
}

declare module '../kernel/context.js' {
  interface AppContext {
    /** Call and per-agent counters, counted in memory on the request path. */
    counters: CallCounters;
  }
}
