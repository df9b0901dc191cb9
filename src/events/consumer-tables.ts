/** A durable consumer's cursor: the last event id its owner acknowledged. */
export interface EventConsumerRow {
  /** The owning instance id, or `admin` / `anonymous`. */
  owner: string;
  name: string;
  acked_id: number;
  updated_at: string;
}

declare module '../db/schema.js' {
  interface Database {
    event_consumers: EventConsumerRow;
  }
}
