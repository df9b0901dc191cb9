import { badRequest } from '../kernel/errors.js';
import type { WriteTx } from '../commit/change.js';

/**
 * What a conditional write requires of the key's current version:
 * - `any`: nothing (a plain write);
 * - `exists`: the key exists (`If-Match: *`);
 * - `absent`: the key does not exist (`If-None-Match: *`, create-only);
 * - `version` / `etag`: the key exists and is at that version / has that content hash.
 */
export type Precondition =
  | { kind: 'any' }
  | { kind: 'exists' }
  | { kind: 'absent' }
  | { kind: 'version'; version: number }
  | { kind: 'etag'; hash: string };

export const NO_PRECONDITION: Precondition = { kind: 'any' };

/**
 * A further condition of a write, checked inside the write's own transaction before anything
 * is written; it refuses by throwing (a lease named with X-Koor-Lease that the caller no
 * longer holds). A domain that stores versioned values runs it without knowing what it checks.
 */
export type WriteGuard = (trx: WriteTx) => Promise<void>;

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(', ') : value)?.trim();

/** The entity tag of a content hash, as sent in `ETag`. */
export const etagOf = (hash: string) => `"${hash}"`;

/**
 * Reads `If-Match` / `If-None-Match` of a write. `If-Match` takes one quoted ETag, a bare
 * version number, or `*`; `If-None-Match` on a write only takes `*` (create-only).
 */
export function writePrecondition(headers: Record<string, string | string[] | undefined>, allowCreateOnly = true): Precondition {
  const ifMatch = header(headers['if-match']);
  const ifNoneMatch = header(headers['if-none-match']);
  if (ifMatch && ifNoneMatch) throw badRequest('send either If-Match or If-None-Match, not both');
  if (ifNoneMatch !== undefined && ifNoneMatch !== '') {
    if (!allowCreateOnly) throw badRequest('If-None-Match is not supported on this request');
    if (ifNoneMatch !== '*') throw badRequest(`invalid If-None-Match "${ifNoneMatch}": a write only accepts * (create-only)`);
    return { kind: 'absent' };
  }
  if (ifMatch === undefined || ifMatch === '') return NO_PRECONDITION;
  if (ifMatch === '*') return { kind: 'exists' };
  if (/^\d{1,15}$/.test(ifMatch)) return { kind: 'version', version: Number(ifMatch) };
  const quoted = ifMatch.match(/^"([^"]*)"$/);
  if (quoted) return { kind: 'etag', hash: quoted[1]! };
  throw badRequest(`invalid If-Match "${ifMatch}": expected a quoted ETag, a version number or *`);
}

/** Whether a GET's `If-None-Match` names the current ETag (then the answer is 304). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch === etag) return true;
  for (const part of ifNoneMatch.split(',')) {
    const candidate = part.trim();
    if (candidate === '*' || candidate === etag || candidate === `W/${etag}`) return true;
  }
  return false;
}
