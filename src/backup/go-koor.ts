import Database from 'better-sqlite3';
import { hashToken, newInstanceToken } from '../instances/tokens.js';
import { sha256Hex } from '../mvcc/versioned-store.js';
import type { VersionedValueRow } from '../mvcc/rows.js';
import { TopicPattern } from '../events/topics.js';
import type { Actor, AppContext } from '../kernel/context.js';
import { badRequest } from '../kernel/errors.js';
import { EXPORT_FORMAT, encodeRow } from './export.js';
import { importLineSource, type ImportResult } from './import.js';

// Reading a Go Koor database (the SQLite file its server keeps, `data.db`) as Koor export
// lines, so that `koor-server import-go` loads it through the same importer as a Koor backup:
// in one change, into an empty server (or merging), with every row checked. The mapping of
// Go's tables onto Koor's is the knowledge kept here:
//
//   state + state_history → state_keys + state_versions (every version Go kept)
//   specs                 → spec_keys + spec_versions (Go keeps only the current version)
//   validation_rules      → rules
//   events, instances, webhooks, compliance_runs, templates, audit_log, agent_metrics,
//   llm_usage             → the tables of the same names
//
// Go writes its times as SQLite's `datetime('now')`, "2026-02-16 14:30:00" in UTC; Koor's are
// RFC 3339 with milliseconds. Go keeps instance tokens in clear; Koor keeps their hashes, so
// the tokens Go agents hold keep working.

export class GoDatabaseError extends Error {}

/**
 * Copies a Go Koor database into this server in one change: into an empty server, or with
 * `merge` keeping what exists (rows whose key is taken are skipped). 400 naming what cannot be
 * carried over; the Go database is only read.
 */
export async function importGoDatabase(ctx: AppContext, path: string, options: { merge: boolean; actor: Actor }): Promise<ImportResult> {
  let go: GoKoorDatabase;
  try {
    go = new GoKoorDatabase(path);
  } catch (err) {
    if (err instanceof GoDatabaseError) throw badRequest(err.message);
    throw err;
  }
  try {
    return await importLineSource(ctx, () => asAsync(go.exportLines(ctx.version)), options);
  } catch (err) {
    if (err instanceof GoDatabaseError) throw badRequest(err.message);
    throw err;
  } finally {
    go.close();
  }
}

async function* asAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

type Row = Record<string, unknown>;

/** Tables of a Go Koor database, all of which are read when present. */
export const GO_TABLES = [
  'state', 'state_history', 'specs', 'events', 'instances', 'webhooks', 'compliance_runs',
  'templates', 'audit_log', 'agent_metrics', 'validation_rules', 'llm_usage',
] as const;

/** A Go Koor database opened read-only. */
export class GoKoorDatabase {
  private readonly db: Database.Database;
  private readonly tables: Set<string>;

  constructor(readonly path: string) {
    try {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      const names = this.db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
      this.tables = new Set(names.map((n) => n.name));
    } catch (err) {
      throw new GoDatabaseError(`cannot read ${path} as a SQLite database: ${(err as Error).message}`);
    }
    // Every Go Koor version has these two; other tables came with later versions.
    for (const required of ['state', 'events']) {
      if (!this.tables.has(required)) {
        this.db.close();
        throw new GoDatabaseError(`${path} is not a Go Koor database: it has no "${required}" table`);
      }
    }
  }

  close(): void {
    this.db.close();
  }

  private rows(table: string, order: string): Row[] {
    if (!this.tables.has(table)) return [];
    return this.db.prepare(`select * from "${table}" order by ${order}`).all() as Row[];
  }

  /**
   * The database as Koor export lines: a header, one `{table, row}` line per Koor row, and the
   * end line with the count. Fails with GoDatabaseError naming the row it cannot carry over.
   */
  *exportLines(version: string): Generator<string> {
    yield `${JSON.stringify({ koor_export: EXPORT_FORMAT, version, exported_at: new Date().toISOString(), engine: 'go-koor', source: this.path })}\n`;
    let count = 0;
    const line = (table: string, row: Row) => {
      count++;
      return `${JSON.stringify({ table, row: encodeRow(row) })}\n`;
    };
    for (const [table, row] of this.koorRows()) yield line(table, row);
    yield `${JSON.stringify({ koor_export_end: true, rows: count })}\n`;
  }

  private *koorRows(): Generator<[string, Row]> {
    yield* this.versionedRows('state', this.stateVersions());
    yield* this.versionedRows('spec', this.specVersions());
    for (const row of this.rows('events', 'id')) {
      const where = `events row ${String(row.id)}`;
      yield ['events', { id: row.id, topic: text(row.topic), data: jsonText(row.data), source: text(row.source), created_at: koorTime(row.created_at, where) }];
    }
    for (const row of this.rows('instances', 'id')) {
      const where = `instance ${String(row.id)}`;
      const token = text(row.token);
      yield ['instances', {
        id: row.id,
        name: text(row.name),
        workspace: text(row.workspace),
        intent: text(row.intent),
        stack: text(row.stack),
        capabilities: jsonArrayText(row.capabilities, '[]'),
        status: text(row.status) || 'pending',
        registered_at: koorTime(row.registered_at, where),
        last_seen: koorTime(row.last_seen, where),
        base_url: '',
        // An instance without a token gets a hash no token has: nobody can act as it.
        token_hash: hashToken(token || newInstanceToken()),
      }];
    }
    for (const row of this.rows('webhooks', 'id')) {
      const where = `webhook ${String(row.id)}`;
      yield ['webhooks', {
        id: row.id,
        url: text(row.url),
        patterns: JSON.stringify(webhookPatterns(row.patterns)),
        secret: text(row.secret),
        active: Number(row.active ?? 1) ? 1 : 0,
        fail_count: Number(row.fail_count ?? 0),
        created_at: koorTime(row.created_at, where),
        last_fired: row.last_fired === null || row.last_fired === undefined || row.last_fired === '' ? null : koorTime(row.last_fired, where),
      }];
    }
    for (const row of this.rows('compliance_runs', 'id')) {
      yield ['compliance_runs', {
        id: row.id,
        instance_id: text(row.instance_id),
        project: text(row.project),
        contract: text(row.contract),
        pass: Number(row.pass) ? 1 : 0,
        violations: jsonArrayText(row.violations, '[]'),
        run_at: koorTime(row.run_at, `compliance run ${String(row.id)}`),
      }];
    }
    for (const row of this.rows('templates', 'id')) {
      // Go never changes a template (version stays 1), so created_at is all there is to keep.
      yield ['templates', {
        id: row.id,
        name: text(row.name),
        description: text(row.description),
        kind: text(row.kind) || 'rules',
        data: jsonText(row.data),
        tags: jsonArrayText(row.tags, '[]'),
        created_at: koorTime(row.created_at, `template ${String(row.id)}`),
      }];
    }
    for (const row of this.rows('audit_log', 'id')) {
      yield ['audit_log', {
        id: row.id,
        timestamp: koorTime(row.timestamp, `audit entry ${String(row.id)}`),
        actor: text(row.actor),
        action: text(row.action),
        resource: text(row.resource),
        detail: text(row.detail),
        outcome: text(row.outcome) || 'success',
      }];
    }
    for (const row of this.rows('agent_metrics', 'instance_id, period, metric_name')) {
      yield ['agent_metrics', { instance_id: text(row.instance_id), metric_name: text(row.metric_name), period: text(row.period), metric_value: Number(row.metric_value ?? 0) }];
    }
    for (const row of this.rows('validation_rules', 'project, rule_id')) {
      yield ['rules', {
        project: text(row.project),
        rule_id: text(row.rule_id),
        severity: text(row.severity) || 'error',
        match_type: text(row.match_type) || 'regex',
        pattern: text(row.pattern),
        message: text(row.message),
        applies_to: jsonArrayText(row.applies_to, '[]'),
        stack: text(row.stack),
        source: text(row.source) || 'local',
        status: text(row.status) || 'accepted',
        proposed_by: text(row.proposed_by),
        context: text(row.context),
        created_at: koorTime(row.created_at, `rule ${text(row.project)}/${text(row.rule_id)}`),
      }];
    }
    for (const row of this.rows('llm_usage', 'id')) {
      yield ['llm_usage', {
        id: row.id,
        created_at: koorTime(row.created_at, `llm usage row ${String(row.id)}`),
        provider: text(row.provider),
        model: text(row.model),
        instance_id: text(row.instance_id),
        project: text(row.project),
        tokens_in: Number(row.tokens_in ?? 0),
        tokens_out: Number(row.tokens_out ?? 0),
        cost_usd: Number(row.cost_usd ?? 0),
        request_type: text(row.request_type) || 'completion',
        session_tag: text(row.session_tag),
      }];
    }
  }

  /**
   * Every version of every state key: Go archives the version it overwrites in state_history
   * and keeps the current one in state. A key deleted in Go has only its history (it stays
   * deleted here, with its versions readable). A key Go deleted and wrote again restarted at
   * version 1 there; its current value becomes the version after its old history here, since
   * Koor's versions of a key only ever rise.
   */
  private stateVersions(): Map<string, { versions: VersionRow[]; live: boolean }> {
    const keys = new Map<string, { versions: VersionRow[]; live: boolean }>();
    const entry = (key: string) => {
      let found = keys.get(key);
      if (!found) keys.set(key, (found = { versions: [], live: false }));
      return found;
    };
    for (const row of this.rows('state_history', 'key, version')) {
      entry(text(row.key)).versions.push(versionRow(row, `state key ${text(row.key)} version ${String(row.version)}`));
    }
    for (const row of this.rows('state', 'key')) {
      const key = text(row.key);
      const found = entry(key);
      const current = versionRow(row, `state key ${key}`);
      const newestArchived = found.versions.at(-1)?.version ?? 0;
      if (current.version <= newestArchived) current.version = newestArchived + 1;
      found.versions.push(current);
      found.live = true;
    }
    return keys;
  }

  private specVersions(): Map<string, { versions: VersionRow[]; live: boolean }> {
    const keys = new Map<string, { versions: VersionRow[]; live: boolean }>();
    for (const row of this.rows('specs', 'project, name')) {
      const key = `${text(row.project)}/${text(row.name)}`;
      keys.set(key, { versions: [versionRow({ ...row, content_type: 'application/json', value: row.data }, `spec ${key}`)], live: true });
    }
    return keys;
  }

  private *versionedRows(space: 'state' | 'spec', keys: Map<string, { versions: VersionRow[]; live: boolean }>): Generator<[string, Row]> {
    for (const [key, { versions, live }] of keys) {
      if (versions.length === 0) continue;
      const newest = versions.at(-1)!;
      yield [`${space}_keys`, { key, version: newest.version, live: live ? 1 : 0, hash: newest.hash, content_type: newest.content_type, updated_at: newest.updated_at }];
      for (const v of versions) {
        yield [`${space}_versions`, { key, version: v.version, data: v.data, hash: v.hash, content_type: v.content_type, updated_at: v.updated_at, updated_by: v.updated_by }];
      }
    }
  }
}

/** One version of a key, as Koor's versioned stores keep it. */
type VersionRow = Omit<VersionedValueRow, 'key'>;

function versionRow(row: Row, where: string): VersionRow {
  const data = bytes(row.value);
  return {
    version: Number(row.version ?? 1),
    data,
    // Recomputed rather than trusted: ETags are derived from it.
    hash: sha256Hex(data),
    content_type: text(row.content_type) || 'application/json',
    updated_at: koorTime(row.updated_at, where),
    updated_by: text(row.updated_by),
  };
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return String(value);
}

function bytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value === null || value === undefined) return Buffer.alloc(0);
  return Buffer.from(String(value), 'utf8');
}

/** A stored JSON value as Koor keeps it (JSON text); anything Go kept that is not JSON becomes a JSON string. */
function jsonText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  const raw = text(value);
  if (raw.trim() === '') return 'null';
  try {
    return JSON.stringify(JSON.parse(raw));
  } catch {
    return JSON.stringify(raw);
  }
}

/** A JSON array column; anything else (damaged or empty) is `fallback`. */
function jsonArrayText(value: unknown, fallback: string): string {
  try {
    const parsed: unknown = JSON.parse(text(value));
    return Array.isArray(parsed) ? JSON.stringify(parsed) : fallback;
  } catch {
    return fallback;
  }
}

/**
 * A webhook's patterns. Go's `path.Match` never matches with a malformed pattern, so dropping
 * one here delivers exactly what Go delivered; an empty pattern (or none) matched everything.
 */
function webhookPatterns(value: unknown): string[] {
  let patterns: unknown;
  try {
    patterns = JSON.parse(text(value));
  } catch {
    return ['*'];
  }
  if (!Array.isArray(patterns)) return ['*'];
  return patterns.filter((p): p is string => typeof p === 'string').filter((p) => {
    try {
      TopicPattern.compile(p);
      return true;
    } catch {
      return false;
    }
  });
}

const GO_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?(?:\s+[A-Z]{2,5})?$/;

/** A Go Koor time ("2026-02-16 14:30:00", UTC, or RFC 3339) as Koor writes times. */
export function koorTime(value: unknown, where: string): string {
  const raw = text(value).trim();
  const match = GO_TIME.exec(raw);
  if (match) {
    const [, date, time, fraction = '', zone = 'Z'] = match;
    const offset = zone === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
    const millis = fraction ? `.${fraction.slice(1, 4).padEnd(3, '0')}` : '';
    const parsed = new Date(`${date}T${time}${millis}${offset}`);
    if (!Number.isNaN(parsed.getTime())) return parsed.toISOString();
  }
  throw new GoDatabaseError(`${where}: "${raw}" is not a time Go Koor writes`);
}
