/** What the cache knows about one key: its current value, or that it was deleted at `version`. */
export interface CachedValue {
  version: number;
  /** null for a deleted key (a tombstone). */
  data: Buffer | null;
  hash: string;
  contentType: string;
  updatedAt: string;
  /** Precomputed ETag header value, so a cache hit does no string work. */
  etag: string;
}

const ENTRY_OVERHEAD = 200;

/**
 * The current value of recently used keys, bounded by total bytes and evicted least recently
 * used first. Only used where this process is the only writer (SQLite), so a hit never serves
 * a value another process has replaced.
 *
 * Writers may finish out of order (a read that started before a write can complete after it),
 * so an entry is only ever replaced by a newer version; a tombstone wins over a live entry of
 * the same version.
 */
export class ValueCache {
  private readonly entries = new Map<string, CachedValue>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(key: string): CachedValue | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      // Re-insert to mark it most recently used (Map keeps insertion order).
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** Records a value read from or written to the database, unless a newer one is known. */
  offer(key: string, value: CachedValue): void {
    const known = this.entries.get(key);
    if (known) {
      const newer = value.version > known.version || (value.version === known.version && value.data === null);
      if (!newer) return;
      this.remove(key);
    }
    const size = sizeOf(key, value);
    if (size > this.maxBytes) return;
    this.entries.set(key, value);
    this.bytes += size;
    for (const [oldKey] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(oldKey);
    }
  }

  remove(key: string): void {
    const known = this.entries.get(key);
    if (!known) return;
    this.entries.delete(key);
    this.bytes -= sizeOf(key, known);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }
}

function sizeOf(key: string, value: CachedValue): number {
  return ENTRY_OVERHEAD + key.length * 2 + (value.data?.length ?? 0) + value.contentType.length * 2;
}
