import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceDir } from './settings.js';

/**
 * The last ETag and version this workspace saw for each key, for `get --if-changed`.
 *
 * It lives in the workspace (`.koor-cli-cache/etags.json`, or `$KOOR_CLI_CACHE_DIR`), like
 * settings.json, because "changed since I last looked" is a fact about one reader: a
 * cache shared by several agents on one machine would tell the second reader "unchanged" about
 * a version it never saw. Concurrent CLI runs may overwrite each other's entries; a lost or
 * older entry only costs one full read, because the server still compares the ETag.
 */

export interface SeenVersion {
  etag: string;
  version: number | null;
}

const MAX_ENTRIES = 1000;

function cacheDir(): string {
  return process.env.KOOR_CLI_CACHE_DIR || join(workspaceDir(), '.koor-cli-cache');
}

function cacheFile(): string {
  return join(cacheDir(), 'etags.json');
}

function readAll(): Record<string, SeenVersion> {
  try {
    const parsed = JSON.parse(readFileSync(cacheFile(), 'utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** Cache entries are per server, per identity and per resource. */
export function cacheKey(server: string, identity: string | undefined, resource: string): string {
  return `${server} ${identity ?? '-'} ${resource}`;
}

export function lastSeen(key: string): SeenVersion | undefined {
  const entry = readAll()[key];
  return entry && typeof entry.etag === 'string' ? entry : undefined;
}

export function rememberSeen(key: string, seen: SeenVersion): void {
  const all = readAll();
  delete all[key]; // re-insert so the newest entries are last and the oldest get trimmed
  all[key] = seen;
  const keys = Object.keys(all);
  for (const old of keys.slice(0, Math.max(0, keys.length - MAX_ENTRIES))) delete all[old];
  try {
    // Not recursive: a recursive mkdir can spin forever on odd file systems (/proc).
    try {
      mkdirSync(cacheDir());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const temp = `${cacheFile()}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(all));
    renameSync(temp, cacheFile());
  } catch {
    // A cache that cannot be written only means the next read is a full one.
  }
}
