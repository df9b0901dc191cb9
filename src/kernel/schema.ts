// One schema per route (issue 15, item 4). A route's TypeBox schema is a plain JSON Schema
// object at run time, so fastify's ajv validates it (with Koor's messages), fast-json-stringify
// serializes by it and @fastify/swagger documents it; at compile time the TypeBox type provider
// gives the handler `request.body/params/query` the schema's static type. A type the code
// needs apart from a handler is `Static<typeof TheSchema>`, never an interface beside it.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static, type TObject, type TSchema, type TSchemaOptions } from 'typebox';

export { Type, type Static, type TObject, type TSchema };

/** The routes of a domain, typed by their schemas: `const api = typedRoutes(app)`. */
export function typedRoutes(app: FastifyInstance) {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}

/** `{type: 'string', enum: [...]}` typed as the union of its values (TypeBox's own Enum omits `type`). */
export function StringEnum<const Values extends readonly string[]>(values: Values, options: TSchemaOptions = {}) {
  return Type.Unsafe<Values[number]>({ ...options, type: 'string', enum: [...values] } as TSchema);
}

/** A schema whose JSON value may also be `null` (`type: [T, 'null']`, as ajv reads it), typed `T | null`. */
export function Nullable<Schema extends TSchema & { type: string }>(schema: Schema) {
  return Type.Unsafe<Static<Schema> | null>({ ...schema, type: [schema.type, 'null'] } as TSchema);
}

/** A response that is Koor's error body (`{error, code, reason}`, see kernel/errors.ts). */
export const KoorErrorRef = Type.Unsafe<unknown>({ $ref: 'KoorError#' } as TSchema);

/** An object used as a map: any keys, each value of `values` (`additionalProperties`, which TypeBox's Record does not write). */
export function StringMap<Values extends TSchema>(values: Values, options: TSchemaOptions = {}) {
  return Type.Unsafe<Record<string, Static<Values>>>({ ...options, type: 'object', additionalProperties: values } as TSchema);
}
