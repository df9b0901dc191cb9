// Schemas of the backup routes: they validate requests, shape answers, write the OpenAPI
// document and give the handlers and the import (ImportResult) their types.
import { StringEnum, StringMap, Type, type Static } from '../kernel/schema.js';

const yesNo = ['1', '0', 'true', 'false'] as const;

export const exportQuery = Type.Object({
  include_secrets: Type.Optional(StringEnum(yesNo, { description: "With 1/true (admin only): include the instances' token hashes and the webhooks' secrets" })),
});

export const importQuery = Type.Object({
  merge: Type.Optional(StringEnum(yesNo, { description: 'With 1/true: skip rows whose primary key exists instead of refusing a non-empty server' })),
});

/** Rows imported per table, and in all. */
export const importResultSchema = Type.Object({ imported: StringMap(Type.Integer()), total: Type.Integer() });
export type ImportResult = Static<typeof importResultSchema>;
