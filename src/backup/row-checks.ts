import type { AppContext } from '../kernel/context.js';
import { HttpError } from '../kernel/errors.js';
import { topicProblem } from '../events/topics.js';
import { normalizeRule, type RuleInput } from '../rules/rules.js';
import { templateRowProblem } from '../templates/templates.js';
import { INSTANCE_STATUSES, checkCapabilities } from '../instances/instances.js';
import { checkStateKey } from '../state/state.js';
import { checkSpecNames } from '../specs/specs.js';

// An import brings rows, not requests, yet nothing may enter the database through it that the
// API would refuse: a rule whose severity is "bogus" or whose pattern RE2 cannot compile, a
// template whose data is not JSON (GET /api/templates/{id} then failed), an event id so large
// that later publishes reused ids. Each imported row goes through the checks the matching
// route makes, and a row that fails is a 400 naming its table, its place and the field.

type Row = Record<string, unknown>;

/**
 * Highest id an imported row may carry. Ids are handed out after the largest one present, and
 * past 2^53 JavaScript numbers cannot tell neighbours apart (an imported event id of 2^53-2
 * made the publishes after it reuse ids); half the exact range is left for the ids to come.
 */
export const MAX_IMPORTED_ID = 2 ** 52;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The message of a 400 the domains' own checks throw, as a problem; anything else goes on up. */
function problemOf(check: () => unknown): string | null {
  try {
    check();
    return null;
  } catch (err) {
    if (err instanceof HttpError && err.status === 400) return err.message;
    throw err;
  }
}

function wholeNumber(value: unknown, field: string, min: number, max: number): string | null {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return `${field} must be a whole number between ${min} and ${max} (got ${JSON.stringify(value)})`;
  }
  return null;
}

function text(value: unknown, field: string): string | null {
  return typeof value === 'string' ? null : `${field} must be a string (got ${JSON.stringify(value)})`;
}

function time(value: unknown, field: string): string | null {
  if (typeof value !== 'string' || !ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) return `${field} must be an RFC 3339 time (got ${JSON.stringify(value)})`;
  return null;
}

function jsonText(value: unknown, field: string): string | null {
  if (typeof value !== 'string') return `${field} must be JSON text`;
  try {
    JSON.parse(value);
    return null;
  } catch (err) {
    return `${field} is not JSON (${(err as Error).message})`;
  }
}

function jsonArray(value: unknown, field: string): { problem: string } | { items: unknown[] } {
  if (typeof value !== 'string') return { problem: `${field} must be a JSON array as text` };
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed)) return { items: parsed };
  } catch {
    // Falls through to the message below.
  }
  return { problem: `${field} must be a JSON array as text (got ${JSON.stringify(value).slice(0, 80)})` };
}

/** `project/name` of a spec key, checked as the spec routes check the two names. */
function specKeyProblem(key: unknown): string | null {
  if (typeof key !== 'string') return 'key must be a string';
  const slash = key.indexOf('/');
  if (slash <= 0) return `key "${key}" must be "project/name"`;
  return problemOf(() => checkSpecNames(key.slice(0, slash), key.slice(slash + 1)));
}

type RowCheck = (ctx: AppContext, row: Row) => string | null | Promise<string | null>;

const CHECKS: Record<string, RowCheck> = {
  events: (_ctx, row) =>
    wholeNumber(row.id, 'id', 1, MAX_IMPORTED_ID) ??
    text(row.topic, 'topic') ??
    topicProblem(row.topic as string) ??
    jsonText(row.data, 'data') ??
    (row.source === undefined ? null : text(row.source, 'source')) ??
    time(row.created_at, 'created_at'),

  rules: (_ctx, row) => {
    const appliesTo = row.applies_to === undefined ? { items: [] } : jsonArray(row.applies_to, 'applies_to');
    if ('problem' in appliesTo) return appliesTo.problem;
    for (const field of ['project', 'rule_id', 'severity', 'match_type', 'pattern', 'source', 'status'] as const) {
      if (row[field] !== undefined && typeof row[field] !== 'string') return text(row[field], field);
    }
    // The checks PUT /api/validate/{project}/rules makes (severity, match type, an RE2 pattern
    // that compiles, globs, source, status), with nothing filled in that the row lacks.
    return problemOf(() => normalizeRule({ ...(row as RuleInput), applies_to: appliesTo.items as string[] }, { project: '' }));
  },

  templates: (ctx, row) => templateRowProblem(ctx, row),

  instances: (_ctx, row) => {
    if (typeof row.id !== 'string' || row.id === '' || row.id.length > 200) return 'id must be a string of 1 to 200 characters';
    if (typeof row.status !== 'string' || !(INSTANCE_STATUSES as readonly string[]).includes(row.status)) {
      return `status must be one of ${INSTANCE_STATUSES.join(', ')} (got ${JSON.stringify(row.status)})`;
    }
    const capabilities = jsonArray(row.capabilities, 'capabilities');
    if ('problem' in capabilities) return capabilities.problem;
    const capabilityProblem = problemOf(() => checkCapabilities(capabilities.items));
    if (capabilityProblem) return capabilityProblem;
    if (typeof row.token_hash !== 'string' || !/^[0-9a-f]{64}$/.test(row.token_hash)) return 'token_hash must be 64 lower-case hex digits (a sha256)';
    return time(row.registered_at, 'registered_at') ?? time(row.last_seen, 'last_seen');
  },

  state_keys: (_ctx, row) => problemOf(() => checkStateKey(row.key as string)) ?? wholeNumber(row.version, 'version', 1, MAX_IMPORTED_ID),
  state_versions: (_ctx, row) => (typeof row.key === 'string' ? problemOf(() => checkStateKey(row.key as string)) : 'key must be a string') ?? wholeNumber(row.version, 'version', 1, MAX_IMPORTED_ID),
  spec_keys: (_ctx, row) => specKeyProblem(row.key) ?? wholeNumber(row.version, 'version', 1, MAX_IMPORTED_ID),
  spec_versions: (_ctx, row) => specKeyProblem(row.key) ?? wholeNumber(row.version, 'version', 1, MAX_IMPORTED_ID),

  audit_log: (_ctx, row) => time(row.timestamp, 'timestamp') ?? (row.outcome === 'success' || row.outcome === 'error' ? null : `outcome must be success or error (got ${JSON.stringify(row.outcome)})`),
};

/**
 * What is wrong with one imported row, naming the field; null when it may be stored. Every
 * table's numeric `id` must lie between 1 and MAX_IMPORTED_ID; tables with a route behind them
 * get that route's checks.
 */
export async function importedRowProblem(ctx: AppContext, table: string, row: Row): Promise<string | null> {
  if (typeof row.id === 'number') {
    const idProblem = wholeNumber(row.id, 'id', 1, MAX_IMPORTED_ID);
    if (idProblem) return idProblem;
  }
  return (await CHECKS[table]?.(ctx, row)) ?? null;
}
