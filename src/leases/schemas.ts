// Schemas of the leases routes: they validate requests, shape answers, write the OpenAPI
// document and give the handlers and the domain (Lease, LeaseConflict, AcquireInput,
// LeaseFilter) their types.
import { Nullable, StringEnum, Type, type Static } from '../kernel/schema.js';
import { LEASE_MODES, MAX_PROJECT_LENGTH, MAX_REASON_LENGTH } from './leases.js';
import { MAX_RESOURCE_LENGTH, MAX_RESOURCES } from './resources.js';
import { errorBodyFields } from '../kernel/errors.js';

const resourceList = (description: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: MAX_RESOURCE_LENGTH }), { minItems: 1, maxItems: MAX_RESOURCES, description });

/** A lease as every channel shows it. */
export const leaseSchema = Type.Object({
  id: Type.String(),
  resources: Type.Array(Type.String()),
  mode: StringEnum(LEASE_MODES),
  holder: Type.String({ description: 'the instance id, or admin / anonymous for a person' }),
  holder_name: Type.String({ description: 'the instance name, or human' }),
  project: Type.String(),
  reason: Type.String(),
  fence: Type.Integer({ description: 'fencing token: rises with every lease granted' }),
  acquired_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
});
export type Lease = Static<typeof leaseSchema>;

/** A lease that stands in the way, with what its holder said it is doing. */
export const conflictSchema = Type.Object({
  id: Type.String(),
  holder: Type.String(),
  holder_name: Type.String(),
  intent: Type.String({ description: "the holder's current intent" }),
  reason: Type.String({ description: 'why the lease was taken' }),
  mode: StringEnum(LEASE_MODES),
  resources: Type.Array(Type.String(), { description: 'its resources that overlap what was asked for' }),
  expires_at: Type.String({ format: 'date-time' }),
});
export type LeaseConflict = Static<typeof conflictSchema>;

export const conflictResponse = Type.Object(
  { ...errorBodyFields, conflicts: Type.Array(conflictSchema) },
  { description: '{error, code, conflicts:[…]}: the leases that stand in the way', additionalProperties: true },
);

const project = Type.Optional(Type.String({ maxLength: MAX_PROJECT_LENGTH, description: 'leases only conflict within one project (default "")' }));

export const acquireBody = Type.Object({
  resources: resourceList('paths (src/a.ts), globs (src/api/**, *.sql) or names (task:42)'),
  mode: Type.Optional(StringEnum(LEASE_MODES, { default: 'exclusive' })),
  ttl: Type.Optional(Type.String({ description: 'how long it lasts unless renewed: 90s, 15m (default), at most 24h' })),
  reason: Type.Optional(Type.String({ maxLength: MAX_REASON_LENGTH })),
  project,
}, { additionalProperties: false });
export type AcquireInput = Static<typeof acquireBody>;

export const waitQuery = Type.Object({
  wait: Type.Optional(Type.String({ description: 'wait up to this long (30s, at most 5m) for the conflicts to go, then grant' })),
});

export const idParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const renewBody = Nullable(Type.Object({
  ttl: Type.Optional(Type.String({ description: "new time to live from now (default: the lease's own)" })),
}, { additionalProperties: false }));

export const listQuery = Type.Object({
  holder: Type.Optional(Type.String({ description: 'instance id (or admin / anonymous)' })),
  project: Type.Optional(Type.String()),
  resource: Type.Optional(Type.String({ description: 'only leases covering this path (or overlapping this glob)' })),
});
export type LeaseFilter = Static<typeof listQuery>;

export const checkBody = Type.Object({
  paths: resourceList('paths, globs or names about to be changed'),
  project,
  mode: Type.Optional(StringEnum(LEASE_MODES, { default: 'exclusive', description: 'shared: only what stops a shared lease' })),
}, { additionalProperties: false });

export const releasedSchema = Type.Object({ released: Type.String() });
