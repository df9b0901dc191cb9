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
 * integer too large to be exact, or a string with a NUL character (PostgreSQL text cannot hold
 * one; refusing it on SQLite too keeps the engines alike). Undefined when there is none.
 *
 * Only values the schema gives a type are looked at: free-form parts (an event's `data`, a
 * property without a type) are stored as JSON text, which holds both escaped. So the walk goes
 * no deeper than the schema does, and it allocates nothing unless it finds something: it runs
 * on every request.
 */
export function firstUnstorableValue(data: unknown, schema: unknown): UnstorableValue | undefined {
  if (!isShape(schema) || schema.type === undefined) return undefined;
  if (typeof data === 'number') {
    if (!Number.isFinite(data)) return { path: '', problem: NOT_FINITE };
    // Past 2^53 integers lose their last digits in JavaScript, and PostgreSQL's bigint ends at 2^63.
    if (schema.type === 'integer' && !Number.isSafeInteger(data)) return { path: '', problem: TOO_LARGE };
  } else if (typeof data === 'string') {
    if (data.includes('\0')) return { path: '', problem: HAS_NUL };
  } else if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) {
      const found = firstUnstorableValue(data[i], schema.items);
      if (found) return { path: `/${i}${found.path}`, problem: found.problem };
    }
  } else if (data !== null && typeof data === 'object') {
    const record = data as Record<string, unknown>;
    for (const key in record) {
      const found = firstUnstorableValue(record[key], schema.properties?.[key] ?? schema.additionalProperties);
      if (found) return { path: `/${key}${found.path}`, problem: found.problem };
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
 *   stored as a token count, after which every listing failed.
 * - **Integers past 2^53**: a 500 from PostgreSQL past bigint's range, inexact before it.
 * - **NUL characters** in strings: a 500 from PostgreSQL, wherever a name, id or message
 *   reached a text column.
 *
 * Such a value is refused like any other invalid field, naming it:
 * `querystring/limit must be a finite number`. Headers are left to ajv alone: Node's HTTP
 * parser already refuses NUL there, and no header is a number.
 *
 * **Bodies are never coerced.** Query strings, path parameters and headers arrive as text, so
 * ajv turns `?limit=5` into 5 for them. A JSON body already says what type each value is:
 * coercing it stored `{"topic": 12345}` as the topic "12345", `{"topic": null}` as "" and
 * `{"cost_usd": "0.5"}` as a number: a client bug passed for data. A body value of the wrong type is a 400 naming the field
 * (`body/topic must be string`).
 */
export function storableValueValidators(): BuildCompilerFromPool {
  const buildDefault = AjvCompiler();
  return (externalSchemas, ajvOptions) => {
    const compileText = buildDefault(externalSchemas, ajvOptions);
    const bodyOptions = { ...ajvOptions, customOptions: { ...ajvOptions?.customOptions, coerceTypes: false } } as typeof ajvOptions;
    const compileBody = buildDefault(externalSchemas, bodyOptions);
    return (route) => {
      const validate = (route.httpPart === 'body' ? compileBody : compileText)(route) as ValidateFunction;
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
