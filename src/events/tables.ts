import type { Generated } from 'kysely';

export interface EventRow {
  id: Generated<number>;
  topic: string;
  /** The event's data as JSON text. */
  data: string;
  source: string;
  created_at: string;
}

declare module '../db/schema.js' {
  interface Database {
    events: EventRow;
  }
}
