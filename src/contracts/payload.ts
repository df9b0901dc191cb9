// The compact contract format: each direction of an endpoint maps field names to
// `{type, required?, nullable?, enum?, fields?, items?}`. A payload is checked field by
// field; anything the contract does not name is a violation.

export const FIELD_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'any'] as const;
export const DIRECTIONS = ['request', 'response', 'query', 'error'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export interface FieldSpec {
  type: string;
  required?: boolean;
  nullable?: boolean;
  enum?: unknown[];
  /** For objects: the fields inside; without it any object is accepted. */
  fields?: Record<string, FieldSpec | string>;
  /** For arrays: the spec of every element. */
  items?: FieldSpec | string;
}

export type FieldMap = Record<string, FieldSpec | string>;

export interface EndpointSpec {
  query?: FieldMap;
  request?: FieldMap;
  response?: FieldMap;
  /** true: the response is an array of `response` objects; a field map: an array of such objects. */
  response_array?: boolean | FieldMap;
  response_status?: number;
  error?: FieldMap;
  /** Standard JSON Schema (2020-12) per direction; wins over the compact format for that direction. */
  schema?: Partial<Record<Direction, unknown>>;
}

export interface Contract {
  kind: 'contract';
  version?: string | number;
  endpoints: Record<string, EndpointSpec>;
}

// The static type of the routes' violation schema (schemas.ts).
import type { ContractViolation } from './schemas.js';
export type { ContractViolation };

/** A field given as a bare type name (`"name": "string"`) means `{type: "string"}`. */
export function fieldSpecOf(spec: FieldSpec | string): FieldSpec {
  return typeof spec === 'string' ? { type: spec } : spec;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function typeMatches(type: string, value: unknown): boolean {
  switch (type) {
    case 'any':
      return true;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'object':
      return typeOf(value) === 'object';
    case 'array':
      return Array.isArray(value);
    default:
      return typeof value === type;
  }
}

const join = (base: string, field: string) => (base ? `${base}.${field}` : field);

function checkValue(spec: FieldSpec, value: unknown, path: string, out: ContractViolation[]): void {
  if (value === null) {
    if (!spec.nullable && spec.type !== 'any') out.push({ path, message: `must not be null (expected ${spec.type})` });
    return;
  }
  if (!typeMatches(spec.type, value)) {
    out.push({ path, message: `expected ${spec.type}, got ${typeOf(value)}` });
    return;
  }
  if (spec.enum && !spec.enum.some((allowed) => allowed === value)) {
    out.push({ path, message: `must be one of ${spec.enum.map((v) => JSON.stringify(v)).join(', ')}` });
  }
  if (spec.type === 'object' && spec.fields) checkFields(spec.fields, value as Record<string, unknown>, path, out);
  if (spec.type === 'array' && spec.items) {
    const items = fieldSpecOf(spec.items);
    (value as unknown[]).forEach((item, i) => checkValue(items, item, `${path}[${i}]`, out));
  }
}

/** Checks an object against a field map: required fields present, types right, nothing unknown. */
export function checkFields(fields: FieldMap, value: Record<string, unknown>, base: string, out: ContractViolation[]): void {
  for (const [name, raw] of Object.entries(fields)) {
    const spec = fieldSpecOf(raw);
    const path = join(base, name);
    if (!Object.prototype.hasOwnProperty.call(value, name) || value[name] === undefined) {
      if (spec.required) out.push({ path, message: 'required field missing' });
      continue;
    }
    checkValue(spec, value[name], path, out);
  }
  for (const name of Object.keys(value)) {
    if (!Object.prototype.hasOwnProperty.call(fields, name)) out.push({ path: join(base, name), message: 'unknown field' });
  }
}

/** Checks a whole payload (an object) against a field map; `base` prefixes every path. */
export function checkPayload(fields: FieldMap, payload: unknown, base = ''): ContractViolation[] {
  const out: ContractViolation[] = [];
  if (typeOf(payload) !== 'object') {
    out.push({ path: base || '$', message: `expected object, got ${typeOf(payload)}` });
    return out;
  }
  checkFields(fields, payload as Record<string, unknown>, base, out);
  return out;
}

/** Checks a payload that must be an array of objects shaped by `fields`. */
export function checkArrayPayload(fields: FieldMap, payload: unknown): ContractViolation[] {
  if (!Array.isArray(payload)) return [{ path: '$', message: `expected array, got ${typeOf(payload)}` }];
  const out: ContractViolation[] = [];
  payload.forEach((item, i) => out.push(...checkPayload(fields, item, `[${i}]`)));
  return out;
}
