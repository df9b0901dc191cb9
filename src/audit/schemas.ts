// Schemas of the audit routes: they validate requests, shape answers, write the OpenAPI
// document and give the handlers and the domain (AuditSummary) their types.
import { StringEnum, StringMap, Type, type Static } from '../kernel/schema.js';

/** Entries GET /api/audit answers unless ?limit= says otherwise. */
export const DEFAULT_AUDIT_LIMIT = 50;

export const entrySchema = Type.Object({
  id: Type.Integer(),
  timestamp: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  resource: Type.String(),
  detail: Type.String(),
  outcome: StringEnum(['success', 'error']),
  imported: Type.Optional(Type.Literal(true, { description: 'Present (true) on entries an import brought: this server did not record them' })),
});

const range = {
  from: Type.Optional(Type.String({ description: 'Earliest timestamp, inclusive (RFC 3339 or YYYY-MM-DD, UTC)' })),
  to: Type.Optional(Type.String({ description: 'Latest timestamp, inclusive (RFC 3339 or YYYY-MM-DD, UTC)' })),
};

export const auditQuery = Type.Object({
  actor: Type.Optional(Type.String({ description: 'Instance id, `admin` or `anonymous`' })),
  action: Type.Optional(Type.String({ description: 'Exact action name, e.g. state.put' })),
  ...range,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_AUDIT_LIMIT })),
});

export const rangeQuery = Type.Object(range);

const counts = StringMap(Type.Integer());

export const summarySchema = Type.Object({
  total_entries: Type.Integer(),
  action_counts: counts,
  outcome_counts: counts,
  unique_actors: Type.Integer(),
  unique_resources: Type.Integer(),
});
export type AuditSummary = Static<typeof summarySchema>;
