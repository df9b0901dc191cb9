import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { KoorClient } from '../client.js';
import { CliError, ExitCode } from '../exit-codes.js';

/**
 * The lease side of the hooks and the git guard (SPEC §16): before an edit, ask the server
 * whether another agent holds a lease on the file; at the end of a session, release this
 * agent's leases. A server without the lease routes (404) is treated as having no leases.
 */

export interface LeaseConflict {
  id?: string;
  holder?: string;
  holder_name?: string;
  resources?: string[];
  expires_at?: string;
  reason?: string;
}

/**
 * The folder lease paths are relative to: the repository holding the workspace (SPEC §16: "a
 * path relative to the repository"), found by its `.git`, else the workspace itself.
 */
export function leaseRoot(workspace: string): string {
  const start = resolve(workspace);
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

/** A path as leases name it (relative, `/`-separated), or null when it lies outside the root. */
export function leasePath(root: string, path: string, base: string): string | null {
  const absolute = isAbsolute(path) ? path : resolve(base, path);
  const rel = relative(root, absolute);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
  return rel.split(sep).join('/');
}

const isNotFound = (err: unknown) => err instanceof CliError && err.exitCode === ExitCode.notFound;

/** The leases of other agents that stop the caller from editing these paths. */
export async function leaseConflicts(client: KoorClient, paths: string[]): Promise<LeaseConflict[]> {
  if (paths.length === 0) return [];
  try {
    const answer = await client.json<{ conflicts?: unknown }>('POST', '/api/leases/check', { json: { paths } });
    return Array.isArray(answer.conflicts) ? (answer.conflicts as LeaseConflict[]) : [];
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

function until(expiresAt: string | undefined): string {
  if (!expiresAt) return '';
  const ms = Date.parse(expiresAt) - Date.now();
  if (!Number.isFinite(ms)) return '';
  const minutes = Math.max(1, Math.round(ms / 60_000));
  return ` for ${minutes < 90 ? `${minutes} more minute${minutes === 1 ? '' : 's'}` : `${Math.round(minutes / 60)} more hours`}`;
}

/** One line per conflict: who holds what, why, and for how long. */
export function describeConflicts(paths: string[], conflicts: LeaseConflict[]): string {
  return conflicts
    .map((c) => {
      const who = c.holder_name || c.holder || 'another agent';
      const what = (c.resources ?? []).join(', ') || paths.join(', ');
      const why = c.reason ? ` (reason: ${c.reason})` : '';
      return `${what} is leased by ${who}${until(c.expires_at)}${why}`;
    })
    .join('\n');
}

/** Releases every lease this instance holds; returns how many. */
export async function releaseOwnLeases(client: KoorClient, instanceId: string): Promise<number> {
  let leases: unknown;
  try {
    leases = await client.json('GET', '/api/leases', { query: { holder: instanceId } });
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw err;
  }
  let released = 0;
  for (const lease of Array.isArray(leases) ? leases : []) {
    const id = (lease as { id?: unknown })?.id;
    if (typeof id !== 'string') continue;
    try {
      await client.json('DELETE', `/api/leases/${encodeURIComponent(id)}`);
      released++;
    } catch (err) {
      if (!isNotFound(err)) throw err; // already gone: expired or released elsewhere
    }
  }
  return released;
}
