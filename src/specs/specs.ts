import type { Actor, AppContext } from '../kernel/context.js';
import { badRequest, notFound } from '../kernel/errors.js';
import type { Change, WriteTx } from '../commit/change.js';
import { NO_PRECONDITION, type Precondition, type WriteGuard } from '../mvcc/preconditions.js';
import type { StoredValue, VersionedStore, VersionSummary } from '../mvcc/versioned-store.js';
import './tables.js';

/**
 * A check a document must pass to be stored, returning the problem (a 400) or null. The
 * contracts domain provides one (a spec that is a contract must be a valid contract); the app
 * factory hands it over, so the registry never needs to know what a contract is.
 */
export type SpecDocumentCheck = (data: Buffer) => string | null | Promise<string | null>;

declare module '../kernel/context.js' {
  interface AppContext {
    /** The spec registry's versioned key space (its cache is shared by every caller). */
    specStore: VersionedStore;
    specChecks: readonly SpecDocumentCheck[];
  }
}

/** The audit actions of the spec registry, named once. */
export const SPEC_ACTIONS = { put: 'spec.put', delete: 'spec.delete' } as const;

// Matches the router's limit on one path parameter (fastify maxParamLength).
export const MAX_NAME_LENGTH = 100;
export const DEFAULT_CONTENT_TYPE = 'application/json';

/** One version of a spec document. */
export interface Spec {
  project: string;
  name: string;
  data: Buffer;
  content_type: string;
  version: number;
  hash: string;
  updated_at: string;
  /** `"<hash>"`, ready for the ETag header. */
  etag: string;
}

export interface SpecSummary {
  name: string;
  version: number;
  content_type: string;
  updated_at: string;
}

export interface SpecWriteResult {
  project: string;
  name: string;
  version: number;
  hash: string;
  content_type: string;
  updated_at: string;
}

// Specs live in their own versioned key space whose key is `project/name`: a project never
// contains `/`, so the first `/` always splits the two.
const specKey = (project: string, name: string) => `${project}/${name}`;

/** Rejects project and spec names the registry does not accept. */
export function checkSpecNames(project: string, name?: string): void {
  if (project === '') throw badRequest('project must not be empty');
  if (project.includes('/')) throw badRequest(`project "${project}" must not contain /`);
  if (project.length > MAX_NAME_LENGTH) throw badRequest(`project is ${project.length} characters long; the limit is ${MAX_NAME_LENGTH}`);
  if (project.includes('\0')) throw badRequest('project must not contain the NUL character (%00)');
  if (name === undefined) return;
  if (name.includes('\0')) throw badRequest('spec name must not contain the NUL character (%00)');
  if (name === '') throw badRequest('spec name must not be empty');
  if (name.length > MAX_NAME_LENGTH) throw badRequest(`spec name is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH}`);
}

function toSpec(project: string, name: string, value: StoredValue): Spec {
  const { data, content_type, version, hash, updated_at, etag } = value;
  return { project, name, data, content_type, version, hash, updated_at, etag };
}

/** The current version of a spec, or null when it does not exist. */
export async function getSpec(ctx: AppContext, project: string, name: string): Promise<Spec | null> {
  checkSpecNames(project, name);
  const value = await ctx.specStore.current(specKey(project, name));
  return value ? toSpec(project, name, value) : null;
}

/** One version of a spec (also of a deleted one); 404 when unknown. */
export async function specAtVersion(ctx: AppContext, project: string, name: string, version: number): Promise<Spec> {
  checkSpecNames(project, name);
  const key = specKey(project, name);
  const value = await ctx.specStore.atVersion(key, version);
  if (value) return toSpec(project, name, value);
  if (!(await ctx.specStore.known(key))) throw notFound('spec', key);
  throw notFound(`version ${version} of spec`, key);
}

/** A spec's versions, newest first; 404 when it was never written. */
export async function specHistory(ctx: AppContext, project: string, name: string, limit = 50): Promise<{ project: string; name: string; versions: VersionSummary[] }> {
  checkSpecNames(project, name);
  const versions = await ctx.specStore.history(specKey(project, name), limit);
  if (versions.length === 0) throw notFound('spec', specKey(project, name));
  return { project, name, versions };
}

/** The project's specs, sorted by name (empty for an unknown project). */
export async function listSpecs(ctx: AppContext, project: string): Promise<SpecSummary[]> {
  checkSpecNames(project);
  const prefix = `${project}/`;
  const rows = await ctx.specStore.list(prefix);
  return rows.map((row) => ({ name: row.key.slice(prefix.length), version: row.version, content_type: row.content_type, updated_at: row.updated_at }));
}

export interface SpecWrite {
  project: string;
  name: string;
  data: Buffer;
  /** Defaults to application/json. */
  contentType?: string;
}

/**
 * A new version of a spec (every document check must pass), announced by `spec.changed`: a
 * part of a change. Other domains (templates) store documents through this too.
 */
/**
 * Stores a spec version inside a change. The caller has run the document checks
 * (`checkSpecDocument`) before the change began: they may take a worker's time, and a write
 * transaction must not wait for it.
 */
export async function putSpecIn(ctx: AppContext, trx: WriteTx, input: SpecWrite, actor: Actor, precondition: Precondition = NO_PRECONDITION): Promise<Change<SpecWriteResult>> {
  const { project, name, data } = checkedSpecNames(input);
  const key = specKey(project, name);
  const contentType = input.contentType || DEFAULT_CONTENT_TYPE;
  const written = await ctx.specStore.writeIn(trx, {
    key,
    data,
    contentType,
    actor,
    precondition,
    audit: { action: SPEC_ACTIONS.put, resource: key, detail: `${data.length} bytes ${contentType}` },
    announce: ({ version }) => ({ topic: 'spec.changed', data: { project, name, version }, source: actor.id }),
  });
  const { version, hash, updated_at } = written.value;
  return { ...written, value: { project, name, version, hash, content_type: contentType, updated_at } };
}

/** Checks names and a non-empty body; returns the input. */
function checkedSpecNames(input: SpecWrite): SpecWrite {
  const { project, name, data } = input;
  checkSpecNames(project, name);
  if (data.length === 0) throw badRequest(`empty body: spec ${project}/${name} needs at least one byte`);
  return input;
}

/** Checks names, a non-empty body and every document check (a contract must be valid): 400 naming the problem. */
export async function checkSpecDocument(ctx: AppContext, input: SpecWrite): Promise<void> {
  checkedSpecNames(input);
  for (const check of ctx.specChecks) {
    const problem = await check(input.data);
    if (problem !== null) throw badRequest(problem);
  }
}

/** Stores a new version of a spec (every document check must pass) and announces `spec.changed`. */
export async function putSpec(ctx: AppContext, input: SpecWrite, actor: Actor, precondition: Precondition = NO_PRECONDITION, guard?: WriteGuard): Promise<SpecWriteResult> {
  // Checked before the commit, so that a bad document never waits for the writer (and the
  // writer never waits for a check).
  await checkSpecDocument(ctx, input);
  return ctx.commit(async (trx) => {
    await guard?.(trx);
    return putSpecIn(ctx, trx, input, actor, precondition);
  });
}

/** Deletes a spec (its history stays) and announces `spec.deleted`. */
export async function deleteSpec(ctx: AppContext, project: string, name: string, actor: Actor, precondition: Precondition = NO_PRECONDITION, guard?: WriteGuard): Promise<{ deleted: string }> {
  checkSpecNames(project, name);
  const key = specKey(project, name);
  await ctx.commit(async (trx) => {
    await guard?.(trx);
    return ctx.specStore.removeIn(trx, {
      key,
      actor,
      precondition,
      audit: { action: SPEC_ACTIONS.delete, resource: key },
      announce: (version) => ({ topic: 'spec.deleted', data: { project, name, version }, source: actor.id }),
    });
  });
  return { deleted: key };
}

/** How many live specs each project has (for the list of projects). */
export async function specCountsByProject(ctx: AppContext): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const row of await ctx.specStore.list()) {
    const project = row.key.slice(0, row.key.indexOf('/'));
    if (project) counts.set(project, (counts.get(project) ?? 0) + 1);
  }
  return counts;
}
