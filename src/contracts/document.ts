import { DIRECTIONS, FIELD_TYPES, type Contract } from './payload.js';
import { jsonSchemaError } from './json-schema.js';
import { schemaProblemOffLoop } from './validate.js';
import type { WorkPool } from '../kernel/work-pool.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const ENDPOINT_KEYS = ['query', 'request', 'response', 'response_array', 'response_status', 'error', 'schema', 'description'];
const FIELD_KEYS = ['type', 'required', 'nullable', 'enum', 'fields', 'items', 'description'];
/** Nesting deeper than this is refused: it is a mistake, and recursion must stay bounded. */
const MAX_DEPTH = 32;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits `"GET /users"` into method and path; null when the key is not of that form. */
export function parseEndpointKey(key: string): { method: string; path: string } | null {
  const match = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(key);
  if (!match || !METHODS.includes(match[1]!.toUpperCase())) return null;
  return { method: match[1]!.toUpperCase(), path: match[2]! };
}

function checkFieldSpec(spec: unknown, where: string, depth: number): string | null {
  if (depth > MAX_DEPTH) return `${where}: nested more than ${MAX_DEPTH} levels`;
  if (typeof spec === 'string') {
    return (FIELD_TYPES as readonly string[]).includes(spec) ? null : `${where}: type must be one of ${FIELD_TYPES.join(', ')} (got "${spec}")`;
  }
  if (!isObject(spec)) return `${where}: must be a field spec object like {"type":"string"}`;
  for (const key of Object.keys(spec)) {
    if (!FIELD_KEYS.includes(key)) return `${where}: unknown key "${key}" (allowed: ${FIELD_KEYS.join(', ')})`;
  }
  if (typeof spec.type !== 'string' || !(FIELD_TYPES as readonly string[]).includes(spec.type)) {
    return `${where}.type must be one of ${FIELD_TYPES.join(', ')} (got ${JSON.stringify(spec.type)})`;
  }
  for (const flag of ['required', 'nullable'] as const) {
    if (spec[flag] !== undefined && typeof spec[flag] !== 'boolean') return `${where}.${flag} must be a boolean`;
  }
  if (spec.enum !== undefined && (!Array.isArray(spec.enum) || spec.enum.length === 0)) return `${where}.enum must be a non-empty array`;
  if (spec.fields !== undefined) {
    if (spec.type !== 'object') return `${where}.fields is only allowed on type object`;
    const problem = checkFieldMap(spec.fields, `${where}.fields`, depth + 1);
    if (problem) return problem;
  }
  if (spec.items !== undefined) {
    if (spec.type !== 'array') return `${where}.items is only allowed on type array`;
    const problem = checkFieldSpec(spec.items, `${where}.items`, depth + 1);
    if (problem) return problem;
  }
  return null;
}

function checkFieldMap(map: unknown, where: string, depth = 0): string | null {
  if (!isObject(map)) return `${where} must be an object mapping field names to field specs`;
  for (const [name, spec] of Object.entries(map)) {
    const problem = checkFieldSpec(spec, `${where}.${name}`, depth);
    if (problem) return problem;
  }
  return null;
}

/** Says what is wrong with a JSON Schema, or null; `where` locates it for the message. */
export type SchemaCheck = (schema: unknown, where: string) => string | null;

const compileHere: SchemaCheck = (schema) => jsonSchemaError(schema);

function checkEndpoint(key: string, endpoint: unknown, schemaCheck: SchemaCheck): string | null {
  const where = `endpoints["${key}"]`;
  if (!parseEndpointKey(key)) return `${where}: the key must be "METHOD /path" with METHOD one of ${METHODS.join(', ')}`;
  if (!isObject(endpoint)) return `${where} must be an object`;
  for (const field of Object.keys(endpoint)) {
    if (!ENDPOINT_KEYS.includes(field)) return `${where}: unknown key "${field}" (allowed: ${ENDPOINT_KEYS.join(', ')})`;
  }
  for (const direction of ['query', 'request', 'response', 'error'] as const) {
    if (endpoint[direction] !== undefined) {
      const problem = checkFieldMap(endpoint[direction], `${where}.${direction}`);
      if (problem) return problem;
    }
  }
  const arrayShape = endpoint.response_array;
  if (arrayShape !== undefined && typeof arrayShape !== 'boolean') {
    const problem = checkFieldMap(arrayShape, `${where}.response_array`);
    if (problem) return `${problem} (or true to apply "response" to each element)`;
  }
  const status = endpoint.response_status;
  if (status !== undefined && !(Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 599)) {
    return `${where}.response_status must be an HTTP status code (100-599)`;
  }
  if (endpoint.schema !== undefined) {
    if (!isObject(endpoint.schema)) return `${where}.schema must be an object of JSON Schemas keyed by direction (${DIRECTIONS.join(', ')})`;
    for (const [direction, schema] of Object.entries(endpoint.schema)) {
      if (!(DIRECTIONS as readonly string[]).includes(direction)) {
        return `${where}.schema: unknown direction "${direction}" (allowed: ${DIRECTIONS.join(', ')})`;
      }
      const problem = schemaCheck(schema, `${where}.schema.${direction}`);
      if (problem) return `${where}.schema.${direction}: invalid JSON Schema: ${problem}`;
    }
  }
  return null;
}

/**
 * Checks that a spec document marked `"kind":"contract"` is a well-formed contract.
 * Returns null when it is, otherwise a message saying what is wrong (used for the 400).
 */
export function checkContractDocument(doc: unknown, schemaCheck: SchemaCheck = compileHere): string | null {
  if (!isObject(doc)) return 'a contract must be a JSON object';
  if (doc.kind !== 'contract') return 'a contract must have "kind": "contract"';
  if (doc.version !== undefined && typeof doc.version !== 'string' && typeof doc.version !== 'number') {
    return 'contract version must be a string or a number';
  }
  if (!isObject(doc.endpoints)) return 'a contract needs "endpoints": an object keyed by "METHOD /path"';
  for (const [key, endpoint] of Object.entries(doc.endpoints)) {
    const problem = checkEndpoint(key, endpoint, schemaCheck);
    if (problem) return `invalid contract: ${problem}`;
  }
  return null;
}

/**
 * `checkContractDocument` with the JSON Schemas compiled where they cannot hold up the server:
 * a big schema (up to 64 KB, half a second of ajv) in the worker pool, under the work budget.
 */
export async function contractDocumentProblem(work: WorkPool, doc: unknown): Promise<string | null> {
  const schemas: [unknown, string][] = [];
  const shapeProblem = checkContractDocument(doc, (schema, where) => {
    schemas.push([schema, where]);
    return null;
  });
  if (shapeProblem) return shapeProblem;
  for (const [schema, where] of schemas) {
    const problem = await schemaProblemOffLoop(work, schema);
    if (problem) return `invalid contract: ${where}: invalid JSON Schema: ${problem}`;
  }
  return null;
}

/** A stored contract's shape, without compiling its schemas again (they were checked when it was stored). */
const shapeOnly: SchemaCheck = () => null;

/** Parses contract JSON text or bytes; throws an Error with the reason when it is not a contract. */
export function parseContract(data: Buffer | string): Contract {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch (err) {
    throw new Error(`not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const problem = checkContractDocument(doc, shapeOnly);
  if (problem) throw new Error(problem);
  return doc as Contract;
}

/**
 * The one answer to "is this spec a contract?": its parsed JSON when the document is a JSON
 * object whose `kind` is `"contract"`, else null (markdown, YAML, JSON of another kind).
 * Cheap tests come first: most specs of a project are not contracts.
 */
export function contractDocumentOf(data: Buffer): Record<string, unknown> | null {
  let start = 0;
  while (start < data.length && (data[start] === 0x20 || data[start] === 0x0a || data[start] === 0x0d || data[start] === 0x09)) start++;
  if (data[start] !== 0x7b /* { */ || !data.includes('"contract"')) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
  return isObject(doc) && doc.kind === 'contract' ? doc : null;
}

/**
 * The spec registry's check for contracts (SPEC §4): a spec that is a contract must be a valid
 * one. Returns the problem, or null for a valid contract and for any other document.
 */
export function contractSpecCheck(work: WorkPool): (data: Buffer) => Promise<string | null> {
  return async (data) => {
    const doc = contractDocumentOf(data);
    return doc === null ? null : contractDocumentProblem(work, doc);
  };
}
