/** An active lease; a lease that ends is deleted. */
export interface LeaseRow {
  id: string;
  project: string;
  /** The holder's instance id, or `admin` / `anonymous` for a person. */
  holder: string;
  /** The holder's name when the lease was granted (`human` for a person). */
  holder_name: string;
  /** `exclusive` | `shared`. */
  mode: string;
  /** The resources as a JSON array of their normalized spellings. */
  resources: string;
  reason: string;
  fence: number;
  /** The lease's time to live, which a renewal without a new one grants again. */
  ttl_ms: number;
  acquired_at: string;
  expires_at: string;
}

/** The one row holding the last fencing token given and the leases' generation. */
export interface LeaseFenceRow {
  id: number;
  fence: number;
  /** Raised by every change to the leases: cached leases at this generation are current. */
  generation: number;
}

declare module '../db/schema.js' {
  interface Database {
    leases: LeaseRow;
    lease_fence: LeaseFenceRow;
  }
}
