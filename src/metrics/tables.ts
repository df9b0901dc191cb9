export interface AgentMetricRow {
  instance_id: string;
  metric_name: string;
  /** The UTC hour the counts belong to, `YYYY-MM-DDTHH`. */
  period: string;
  metric_value: number;
}

declare module '../db/schema.js' {
  interface Database {
    agent_metrics: AgentMetricRow;
  }
}
