// JSON schemas of the leases routes: they validate requests, shape answers and write the
// OpenAPI document.
import { LEASE_MODES, MAX_PROJECT_LENGTH, MAX_REASON_LENGTH } from './leases.js';
import { MAX_RESOURCE_LENGTH, MAX_RESOURCES } from './resources.js';

const resourceList = {
  type: 'array',
  items: { type: 'string', minLength: 1, maxLength: MAX_RESOURCE_LENGTH },
  minItems: 1,
  maxItems: MAX_RESOURCES,
} as const;

export const leaseSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    resources: { type: 'array', items: { type: 'string' } },
    mode: { type: 'string', enum: [...LEASE_MODES] },
    holder: { type: 'string', description: 'the instance id, or admin / anonymous for a person' },
    holder_name: { type: 'string', description: 'the instance name, or human' },
    project: { type: 'string' },
    reason: { type: 'string' },
    fence: { type: 'integer', description: 'fencing token: rises with every lease granted' },
    acquired_at: { type: 'string', format: 'date-time' },
    expires_at: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'resources', 'mode', 'holder', 'holder_name', 'project', 'reason', 'fence', 'acquired_at', 'expires_at'],
} as const;

export const conflictSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    holder: { type: 'string' },
    holder_name: { type: 'string' },
    intent: { type: 'string', description: "the holder's current intent" },
    reason: { type: 'string', description: 'why the lease was taken' },
    mode: { type: 'string', enum: [...LEASE_MODES] },
    resources: { type: 'array', items: { type: 'string' }, description: 'its resources that overlap what was asked for' },
    expires_at: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'holder', 'holder_name', 'intent', 'reason', 'mode', 'resources', 'expires_at'],
} as const;

export const conflictResponse = {
  description: '{error, code, conflicts:[…]}: the leases that stand in the way',
  type: 'object',
  properties: { error: { type: 'string' }, code: { type: 'integer' }, conflicts: { type: 'array', items: conflictSchema } },
  required: ['error', 'code', 'conflicts'],
  additionalProperties: true,
} as const;

const project = { type: 'string', maxLength: MAX_PROJECT_LENGTH, description: 'leases only conflict within one project (default "")' } as const;

export const acquireBody = {
  type: 'object',
  properties: {
    resources: { ...resourceList, description: 'paths (src/a.ts), globs (src/api/**, *.sql) or names (task:42)' },
    mode: { type: 'string', enum: [...LEASE_MODES], default: 'exclusive' },
    ttl: { type: 'string', description: 'how long it lasts unless renewed: 90s, 15m (default), at most 24h' },
    reason: { type: 'string', maxLength: MAX_REASON_LENGTH },
    project,
  },
  required: ['resources'],
  additionalProperties: false,
} as const;

export const waitQuery = {
  type: 'object',
  properties: { wait: { type: 'string', description: 'wait up to this long (30s, at most 5m) for the conflicts to go, then grant' } },
} as const;

export const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 100 } }, required: ['id'] } as const;

export const renewBody = {
  type: ['object', 'null'],
  properties: { ttl: { type: 'string', description: "new time to live from now (default: the lease's own)" } },
  additionalProperties: false,
} as const;

export const listQuery = {
  type: 'object',
  properties: {
    holder: { type: 'string', description: 'instance id (or admin / anonymous)' },
    project: { type: 'string' },
    resource: { type: 'string', description: 'only leases covering this path (or overlapping this glob)' },
  },
} as const;

export const checkBody = {
  type: 'object',
  properties: {
    paths: { ...resourceList, description: 'paths, globs or names about to be changed' },
    project,
    mode: { type: 'string', enum: [...LEASE_MODES], default: 'exclusive', description: 'shared: only what stops a shared lease' },
  },
  required: ['paths'],
  additionalProperties: false,
} as const;
