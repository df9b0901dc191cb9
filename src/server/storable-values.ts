import { AjvCompiler, type BuildCompilerFromPool } from '@fastify/ajv-compiler';
import type { ValidateFunction } from 'ajv';

/** A value no engine can store as given: where it sits (a JSON pointer) and what is wrong. */
export interface UnstorableValue {
  path: string;
  problem: string;
}

const NOT_FINITE = 'must be a finite number';
const HAS_NUL = 'must not contain the NUL character (\\u0000)';
const TOO_LARGE = `must be a whole number between ${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`;

/** The parts of a JSON schema that say what type a value has and what it holds. */
interface Shape {
  type?: unknown;
  properties?: Record<string, Shape>;
  additionalProperties?: boolean | Shape;
  items?: Shape;
}

const isShape = (schema: unknown): schema is Shape => typeof schema === 'object' && schema !== null && !Array.isArray(schema);

/**
 * The first value in `data` that the database cannot take: a number that is not finite, an
 * integer too large to be exact, or a string with a NUL character (PostgreSQL text cannot hold one; refusing it on SQLite too keeps
 * the engines alike). Undefined when there is none.
 *
 * Only values the schema gives a type are looked at: free-form parts (an event's `data`, a
 * property without a type) are stored as JSON text, which holds both escaped. Walks without
 * recursion, however deep the data.
 */
export function firstUnstorableValue(data: unknown, schema: unknown): UnstorableValue | undefined {
  const pending: Array<[unknown, unknown, string]> = [[data, schema, '']];
  while (pending.length > 0) {
    const [value, shape, path] = pending.pop()!;
    if (!isShape(shape) || shape.type === undefined) continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return { path, problem: NOT_FINITE };
      // Past 2^53 integers lose their last digits in JavaScript, and PostgreSQL's bigint ends at 2^63.
      if (shape.type === 'integer' && !Number.isSafeInteger(value)) return { path, problem: TOO_LARGE };
    } else if (typeof value === 'string') {
      if (value.includes('\0')) return { path, problem: HAS_NUL };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) pending.push([value[i], shape.items, `${path}/${i}`]);
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        pending.push([child, shape.properties?.[key] ?? shape.additionalProperties, `${path}/${key}`]);
      }
    }
  }
  return undefined;
}

/**
 * Fastify's own ajv validators, plus what ajv lets through that the database cannot take.
 *
 * - **Infinity.** With type coercion on (query strings and path parameters arrive as text),
 *   ajv turns "1e309" into Infinity, accepts it as an integer and then skips `minimum` and
 *   `maximum`, which only judge finite numbers. Infinity reached SQL as a LIMIT (a 500), or was
 *   stored as a token count, after which every listing failed. A JSON body coerces the same
 *   way when it sends the number as text (`"tokens_in": "1e309"`).
 * - **Integers past 2^53**: a 500 from PostgreSQL past bigint's range, inexact before it.
 * - **NUL characters** in strings: a 500 from PostgreSQL, wherever a name, id or message
 *   reached a text column.
 *
 * Such a value is refused like any other invalid field, naming it:
 * `querystring/limit must be a finite number`. Headers are left to ajv alone: Node's HTTP
 * parser already refuses NUL there, and no header is a number.
 */
export function storableValueValidators(): BuildCompilerFromPool {
  const buildDefault = AjvCompiler();
  return (externalSchemas, ajvOptions) => {
    const compile = buildDefault(externalSchemas, ajvOptions);
    return (route) => {
      const validate = compile(route) as ValidateFunction;
      if (route.httpPart === 'headers') return validate;
      const checked = Object.assign(
        (data: unknown): data is unknown => {
          if (!validate(data)) {
            checked.errors = validate.errors;
            return false;
          }
          const unstorable = firstUnstorableValue(data, route.schema);
          if (!unstorable) return true;
          checked.errors = [{ instancePath: unstorable.path, schemaPath: '#', keyword: 'storable', params: {}, message: unstorable.problem }];
          return false;
        },
        { schema: validate.schema, schemaEnv: validate.schemaEnv, errors: null as ValidateFunction['errors'] },
      ) satisfies ValidateFunction;
      return checked;
    };
  };
}
