import type { Actor, AppContext } from '../kernel/context.js';
import { badRequest } from '../kernel/errors.js';
import type { WriteGuard } from '../mvcc/preconditions.js';
import { requireLeaseHeldIn } from './leases.js';

/** The header that names the lease a write is fenced by. */
export const LEASE_HEADER = 'x-koor-lease';

/**
 * The fence a write asked for with `X-Koor-Lease: <lease id>` (SPEC §16), or undefined when it
 * named none: a guard the write runs in its own transaction, refusing with 412 unless the
 * caller still holds that lease.
 */
export function leaseFence(ctx: AppContext, headers: Record<string, string | string[] | undefined>, actor: Actor): WriteGuard | undefined {
  const value = headers[LEASE_HEADER];
  if (value === undefined) return undefined;
  const id = (Array.isArray(value) ? value.join(',') : value).trim();
  if (!/^[0-9a-f]{1,64}$/i.test(id)) throw badRequest(`invalid X-Koor-Lease "${id.slice(0, 80)}": expected a lease id`);
  return (trx) => requireLeaseHeldIn(trx, ctx, id, actor);
}
