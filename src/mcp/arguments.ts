import { Ajv, type ErrorObject } from 'ajv';
import type { TSchema } from '../kernel/schema.js';
import { badRequest } from '../kernel/errors.js';

// MCP tool arguments are checked by ajv against the tool's JSON Schema (the TypeBox object
// tools/list shows), as REST bodies are: arguments arrive as JSON, so nothing is coerced.
const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: true, strict: false });

/** Throws a 400 naming the argument when `args` do not fit the schema; returns them otherwise. */
export type ArgumentChecker = (args: unknown) => Record<string, unknown>;

function describe(error: ErrorObject): string {
  const where = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  return `${where || 'arguments'} ${error.message ?? 'is invalid'}`;
}

export function argumentChecker(schema: TSchema): ArgumentChecker {
  const validate = ajv.compile(schema);
  return (args) => {
    const value = args ?? {};
    if (!validate(value)) throw badRequest(`invalid arguments: ${validate.errors!.map(describe).join('; ')}`);
    return value as Record<string, unknown>;
  };
}
