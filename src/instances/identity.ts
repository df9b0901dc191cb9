import type { AppContext } from '../server/context.js';

/**
 * Resolves an instance token to the live instance it belongs to, or null. Called by the auth
 * layer on every request that carries a token other than the server's.
 * (Filled in by the instance registry.)
 */
export async function resolveInstanceToken(_ctx: AppContext, _token: string): Promise<string | null> {
  return null;
}
