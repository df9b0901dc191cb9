import type { EventHub } from '../events/hub.js';

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

declare module '../kernel/context.js' {
  interface AppContext {
    /** Instance tokens this process has resolved (see TokenCache). */
    tokens: TokenCache;
  }
}

/**
 * The app's token cache, forgetting an instance's tokens when any replica announces its
 * deregistration (this process also forgets them itself, before and after its own commit).
 */
export function createTokenCache(hub: EventHub): TokenCache {
  const cache = new TokenCache();
  hub.subscribe((event) => {
    if (event.topic !== 'agent.deregistered') return;
    const id = (event.data as { id?: unknown } | null)?.id;
    if (typeof id === 'string') cache.forgetInstance(id);
  });
  return cache;
}
