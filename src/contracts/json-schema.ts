import { createRequire } from 'node:module';
import RE2 from 're2';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ContractViolation } from './payload.js';

// Standard JSON Schema (draft 2020-12) for a contract direction, compiled with ajv. Its
// `pattern` keywords run on RE2 like rule patterns, so a schema cannot stall the server either.

const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js').default;
const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;

// ajv wants the engine's import code too (only used for standalone code, which we never emit).
const re2Engine = Object.assign((source: string, flags: string) => new RE2(source, flags) as unknown as RegExp, { code: 'require("re2")' });

const ajv = new Ajv2020({
  allErrors: true,
  // Real-world schemas carry annotations such as `example`; reject only what is truly invalid.
  strict: false,
  code: { regExp: re2Engine },
});
addFormats(ajv);

const compiled = new Map<string, ValidateFunction>();
const CACHE_LIMIT = 500;

/** Compiles `schema` (cached by its JSON text); throws an Error saying what is wrong. */
export function compileJsonSchema(schema: unknown): ValidateFunction {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    if (typeof schema !== 'boolean') throw new Error('a JSON Schema must be an object or a boolean');
  }
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema as object);
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    compiled.set(key, validate);
  }
  return validate;
}

/**
 * Largest JSON Schema a contract may hold, as JSON text. ajv compiles a schema into code, at
 * several microseconds a byte on the event loop: 64 KB (a very large single endpoint) takes
 * about half a second once, while the 2 MB schema that was once accepted held the server for
 * eleven seconds.
 */
export const MAX_SCHEMA_CHARS = 64 * 1024;

/** Null when `schema` is a usable JSON Schema 2020-12, otherwise the reason (ajv's, or its size). */
export function jsonSchemaError(schema: unknown): string | null {
  const size = JSON.stringify(schema)?.length ?? 0;
  if (size > MAX_SCHEMA_CHARS) return `it is ${Math.ceil(size / 1024)} KB as JSON; the limit is ${MAX_SCHEMA_CHARS / 1024} KB`;
  try {
    compileJsonSchema(schema);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** `/items/2/price` → `items[2].price`, the path style of compact-contract violations. */
export function pointerToPath(pointer: string, prefix = ''): string {
  let path = prefix;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(part) ? `[${part}]` : path ? `.${part}` : part;
  }
  return path;
}

function violationFor(error: ErrorObject, prefix: string): ContractViolation {
  const at = pointerToPath(error.instancePath, prefix);
  const join = (field: string) => (at ? `${at}.${field}` : field);
  if (error.keyword === 'additionalProperties' || error.keyword === 'unevaluatedProperties') {
    const field = String((error.params as Record<string, unknown>).additionalProperty ?? (error.params as Record<string, unknown>).unevaluatedProperty);
    return { path: join(field), message: 'unknown field' };
  }
  if (error.keyword === 'required') {
    return { path: join(String((error.params as Record<string, unknown>).missingProperty)), message: 'required field missing' };
  }
  return { path: at || '$', message: error.message ?? error.keyword };
}

/** Validates `payload` against a JSON Schema; violations carry dotted paths under `prefix`. */
export function validateWithJsonSchema(schema: unknown, payload: unknown, prefix = ''): ContractViolation[] {
  const validate = compileJsonSchema(schema);
  if (validate(payload)) return [];
  return (validate.errors ?? []).map((e) => violationFor(e, prefix));
}
