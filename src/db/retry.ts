/**
 * How long a read or a transaction that met a lost PostgreSQL connection keeps being tried on
 * new connections: long enough to ride out a restart of the server (a few seconds), short
 * enough that a request does not hang when the database is gone for good.
 */
export const RETRY_WINDOW_MS = 3_000;

/** Waits before attempt `attempt` (0 = the first retry): 50 ms, doubling, never past `deadline`. */
export function afterPause(attempt: number, deadline: number): Promise<void> {
  const ms = Math.min(50 * 2 ** attempt, 1_000, Math.max(0, deadline - Date.now()));
  return new Promise((resolve) => setTimeout(resolve, ms));
}
