// The contract check as a worker-pool task (src/kernel/work-pool.ts): plain data in and out.
import type { ContractViolation, Direction, EndpointSpec } from './payload.js';
import { validateDirection } from './validate.js';
import { jsonSchemaError } from './json-schema.js';

export function check(input: { spec: EndpointSpec; direction: Direction; payload: unknown }): ContractViolation[] {
  return validateDirection(input.spec, input.direction, input.payload);
}

/** A JSON Schema's problem (null when usable): compiling a big schema costs up to half a second. */
export function schemaProblem(input: { schema: unknown }): string | null {
  return jsonSchemaError(input.schema);
}
