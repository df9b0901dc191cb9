import type { AppContext } from '../kernel/context.js';

interface CachedToken {
  instanceId: string;
  /** When this process last wrote the instance's last_seen because of a call with its token. */
  touchedAt: number;
}

/**
 * Token hash → instance id, per app, so that a request with an instance token usually costs no
 * query. Entries are dropped the moment their instance is deregistered, here or (through the
 * event hub) on another replica.
 */
export class TokenCache {
  private readonly byHash = new Map<string, CachedToken>();
  /**
   * Bumped on every deregistration. A lookup that started before one must not cache its answer:
   * it may have read an instance that is gone by now.
   */
  generation = 0;

  get(hash: string): CachedToken | undefined {
    return this.byHash.get(hash);
  }

  /** Caches a lookup unless a deregistration happened since it started (`generation`). */
  remember(hash: string, instanceId: string, touchedAt: number, generation: number): void {
    if (generation !== this.generation) return;
    this.byHash.set(hash, { instanceId, touchedAt });
  }

  forgetHash(hash: string): void {
    this.byHash.delete(hash);
  }

  forgetInstance(instanceId: string): void {
    this.generation++;
    for (const [hash, entry] of this.byHash) {
      if (entry.instanceId === instanceId) this.byHash.delete(hash);
    }
  }
}

const caches = new WeakMap<AppContext, TokenCache>();

export function tokenCache(ctx: AppContext): TokenCache {
  let cache = caches.get(ctx);
  if (!cache) {
    const created = new TokenCache();
    ctx.hub.subscribe((event) => {
      if (event.topic !== 'agent.deregistered') return;
      const id = (event.data as { id?: unknown } | null)?.id;
      if (typeof id === 'string') created.forgetInstance(id);
    });
    caches.set(ctx, (cache = created));
  }
  return cache;
}
