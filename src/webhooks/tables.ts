import type { Generated } from 'kysely';

export interface WebhookRow {
  id: string;
  url: string;
  /** Topic patterns as a JSON array of strings. */
  patterns: string;
  /** The HMAC secret; '' when deliveries are not signed. Never sent back to clients. */
  secret: string;
  /** 1 while deliveries go out; 0 once disabled after too many consecutive failures. */
  active: number;
  /** Consecutive failed delivery attempts (0 after any success). */
  fail_count: number;
  created_at: string;
  /** When a delivery was last attempted. */
  last_fired: string | null;
}

/**
 * A delivery waiting to be sent (or re-sent); the row is deleted once the receiver accepts it.
 * The event it sends is read from the events table (kept while deliveries are pending).
 */
export interface WebhookDeliveryRow {
  id: Generated<number>;
  webhook_id: string;
  event_id: number;
  topic: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string;
  created_at: string;
}

declare module '../db/schema.js' {
  interface Database {
    webhooks: WebhookRow;
    webhook_deliveries: WebhookDeliveryRow;
  }
}
