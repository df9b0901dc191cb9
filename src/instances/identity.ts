import type { AppContext } from '../kernel/context.js';
import { hashToken } from './tokens.js';
import { instanceIdForTokenHash, recordSignOfLife } from './instances.js';

/**
 * How often one instance's calls may write its last_seen. Well below the stale threshold, so
 * throttling can never let an instance that keeps calling go stale.
 */
function touchIntervalMs(ctx: AppContext): number {
  return Math.min(5_000, Math.floor(ctx.config.staleAfterMs / 3));
}

/**
 * Resolves an instance token to the live instance it belongs to, or null. Called by the auth
 * layer on every request that carries a token other than the server's. Any call with the token
 * counts as a sign of life (last_seen refreshed, a stale instance back to active). The token
 * itself is only ever hashed here, never stored or logged.
 */
export async function resolveInstanceToken(ctx: AppContext, token: string): Promise<string | null> {
  if (token === '') return null;
  const hash = hashToken(token);
  const cache = ctx.tokens;
  const cached = cache.get(hash);
  const now = Date.now();
  const generation = cache.generation;
  if (cached && now - cached.touchedAt < touchIntervalMs(ctx)) return cached.instanceId;

  const instanceId = cached?.instanceId ?? (await instanceIdForTokenHash(ctx, hash));
  if (!instanceId) return null;
  // The write doubles as a check that the instance still exists (another replica may have
  // deregistered it).
  if (!(await recordSignOfLife(ctx, instanceId))) {
    cache.forgetHash(hash);
    return null;
  }
  cache.remember(hash, instanceId, now, generation);
  return instanceId;
}
