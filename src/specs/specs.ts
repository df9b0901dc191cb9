import type { Actor, AppContext } from '../kernel/context.js';
import { badRequest, notFound } from '../kernel/errors.js';
import { publishEvent } from '../events/publish.js';
import { checkContractDocument } from '../contracts/document.js';
import { NO_PRECONDITION, type Precondition } from '../mvcc/preconditions.js';
import { versionedStore, type StoredValue, type VersionSummary } from '../mvcc/versioned-store.js';
import './tables.js';

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
const store = (ctx: AppContext) => versionedStore(ctx.db, 'spec', 'spec');
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

async function announce(ctx: AppContext, topic: string, data: unknown, actor: Actor): Promise<void> {
  try {
    await publishEvent(ctx, { topic, data, source: actor.id });
  } catch (err) {
    ctx.log.error({ err, topic }, 'could not publish event for a committed change');
  }
}

/**
 * A document whose JSON says `"kind":"contract"` must be a valid contract. Anything else (not
 * JSON, or JSON of another kind) is stored as it is.
 */
function checkContract(data: Buffer): void {
  let start = 0;
  while (start < data.length && (data[start] === 0x20 || data[start] === 0x0a || data[start] === 0x0d || data[start] === 0x09)) start++;
  if (data[start] !== 0x7b /* { */) return;
  let doc: unknown;
  try {
    doc = JSON.parse(data.toString('utf8'));
  } catch {
    return;
  }
  if ((doc as { kind?: unknown }).kind !== 'contract') return;
  const problem = checkContractDocument(doc);
  if (problem !== null) throw badRequest(problem);
}

/** The current version of a spec, or null when it does not exist. */
export async function getSpec(ctx: AppContext, project: string, name: string): Promise<Spec | null> {
  checkSpecNames(project, name);
  const value = await store(ctx).current(specKey(project, name));
  return value ? toSpec(project, name, value) : null;
}

/** One version of a spec (also of a deleted one); 404 when unknown. */
export async function specAtVersion(ctx: AppContext, project: string, name: string, version: number): Promise<Spec> {
  checkSpecNames(project, name);
  const key = specKey(project, name);
  const value = await store(ctx).atVersion(key, version);
  if (value) return toSpec(project, name, value);
  if (!(await store(ctx).known(key))) throw notFound('spec', key);
  throw notFound(`version ${version} of spec`, key);
}

/** A spec's versions, newest first; 404 when it was never written. */
export async function specHistory(ctx: AppContext, project: string, name: string, limit = 50): Promise<{ project: string; name: string; versions: VersionSummary[] }> {
  checkSpecNames(project, name);
  const versions = await store(ctx).history(specKey(project, name), limit);
  if (versions.length === 0) throw notFound('spec', specKey(project, name));
  return { project, name, versions };
}

/** The project's specs, sorted by name (empty for an unknown project). */
export async function listSpecs(ctx: AppContext, project: string): Promise<SpecSummary[]> {
  checkSpecNames(project);
  const prefix = `${project}/`;
  const rows = await store(ctx).list(prefix);
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
 * Stores a new version of a spec (a contract must be valid), then announces `spec.changed`.
 * Other domains (templates) store documents through this too.
 */
export async function putSpec(ctx: AppContext, input: SpecWrite, actor: Actor, precondition: Precondition = NO_PRECONDITION): Promise<SpecWriteResult> {
  const { project, name, data } = input;
  checkSpecNames(project, name);
  if (data.length === 0) throw badRequest(`empty body: spec ${project}/${name} needs at least one byte`);
  checkContract(data);
  const key = specKey(project, name);
  const contentType = input.contentType || DEFAULT_CONTENT_TYPE;
  const result = await store(ctx).write(ctx, {
    key,
    data,
    contentType,
    actor,
    precondition,
    audit: { action: 'spec.put', resource: key, detail: `${data.length} bytes ${contentType}` },
    announce: ({ version }) => ({ topic: 'spec.changed', data: { project, name, version }, source: actor.id }),
  });
  return { project, name, version: result.version, hash: result.hash, content_type: contentType, updated_at: result.updated_at };
}

/** Deletes a spec (its history stays) and announces `spec.deleted`. */
export async function deleteSpec(ctx: AppContext, project: string, name: string, actor: Actor, precondition: Precondition = NO_PRECONDITION): Promise<{ deleted: string }> {
  checkSpecNames(project, name);
  const key = specKey(project, name);
  const removed = await store(ctx).remove({ key, actor, precondition, audit: { action: 'spec.delete', resource: key } });
  await announce(ctx, 'spec.deleted', { project, name, version: removed.version }, actor);
  return { deleted: key };
}
