import { storageTrouble, type StorageTrouble } from './storage-trouble.js';

export type HealthState = { status: 'ok' } | { status: 'degraded'; reason: string; since: string };

/** How often a degraded database is tried with a small write, to notice it has recovered. */
export const PROBE_INTERVAL_MS = 1_000;

/** How long after the last failure a commit must come to count as recovery. */
export const QUIET_MS = 5_000;

/**
 * Whether the database can take writes now, as the last writes found it. A failure that
 * outlasts its request (a full disk, an I/O error, PostgreSQL out of reach) makes the state
 * degraded; a write that commits QUIET_MS or more after the last such failure makes it ok
 * again. Not sooner: on a full disk small writes still fit in space the database's files
 * already hold (the audit entry of the refused request itself commits), so one small commit
 * says little while big writes keep failing. While degraded, a small write is tried every
 * second, so the state comes back by itself once space (or the connection) returns, even
 * when no client writes.
 */
export class StorageHealth {
  private trouble: { reason: string; since: string } | undefined;
  private lastFailureAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private closed = false;

  constructor(private readonly probe: () => Promise<void>) {}

  get state(): HealthState {
    return this.trouble ? { status: 'degraded', ...this.trouble } : { status: 'ok' };
  }

  /** Told of every failed database call; answers what the failure means, if it is one. */
  noticed(err: unknown): StorageTrouble | undefined {
    const trouble = storageTrouble(err);
    if (trouble?.lasting && !this.closed) {
      this.lastFailureAt = Date.now();
      this.trouble = { reason: trouble.message, since: this.trouble?.since ?? new Date().toISOString() };
      this.timer ??= setInterval(() => void this.tryProbe(), PROBE_INTERVAL_MS).unref();
    }
    return trouble;
  }

  /** Told of every committed write. */
  recovered(): void {
    if (!this.trouble || Date.now() - this.lastFailureAt < QUIET_MS) return;
    this.trouble = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tryProbe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      // A probe that commits calls `recovered` (through the engine); one that fails, `noticed`.
      await this.probe();
    } catch {
      // still degraded
    } finally {
      this.probing = false;
    }
  }
}
