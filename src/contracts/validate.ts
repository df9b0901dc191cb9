import { badRequest } from '../kernel/errors.js';
import { jsonFitsIn } from '../kernel/json-size.js';
import type { WorkPool } from '../kernel/work-pool.js';
import { parseEndpointKey } from './document.js';
import { jsonSchemaError, validateWithJsonSchema } from './json-schema.js';
import { DIRECTIONS, checkArrayPayload, checkPayload, type Contract, type ContractViolation, type Direction, type EndpointSpec } from './payload.js';

/** Finds an endpoint by its key, ignoring the method's case and extra spaces; 400 when absent. */
export function findEndpoint(contract: Contract, endpoint: string): { key: string; spec: EndpointSpec } {
  const wanted = parseEndpointKey(endpoint);
  for (const [key, spec] of Object.entries(contract.endpoints)) {
    const parsed = parseEndpointKey(key);
    if (key === endpoint || (wanted && parsed && parsed.method === wanted.method && parsed.path === wanted.path)) return { key, spec };
  }
  const known = Object.keys(contract.endpoints);
  throw badRequest(`endpoint "${endpoint}" is not in the contract${known.length ? ` (it has: ${known.join(', ')})` : ''}`);
}

export function checkDirection(direction: string): Direction {
  if (!(DIRECTIONS as readonly string[]).includes(direction)) {
    throw badRequest(`direction must be one of ${DIRECTIONS.join(', ')} (got "${direction}")`);
  }
  return direction as Direction;
}

/**
 * Most violations one check lists. A 10 MB array of wrong items has millions: listing them all
 * built answers of tens of megabytes, and spreading them into another list overflowed the
 * stack. Past the limit the answer says it is cut, as rule validation does.
 */
export const MAX_CONTRACT_VIOLATIONS = 1000;

/**
 * Checks `payload` against one direction of an endpoint. JSON Schema given for the direction
 * wins; otherwise the compact field map. A direction the contract does not describe accepts
 * anything. Returns at most MAX_CONTRACT_VIOLATIONS + 1 violations, so that callers can tell
 * a list that was cut.
 */
export function validateDirection(spec: EndpointSpec, direction: Direction, payload: unknown): ContractViolation[] {
  return allViolations(spec, direction, payload).slice(0, MAX_CONTRACT_VIOLATIONS + 1);
}

function allViolations(spec: EndpointSpec, direction: Direction, payload: unknown): ContractViolation[] {
  const schema = spec.schema?.[direction];
  if (schema !== undefined) return validateWithJsonSchema(schema, payload);
  if (direction === 'response' && spec.response_array !== undefined && spec.response_array !== false) {
    const fields = spec.response_array === true ? spec.response ?? {} : spec.response_array;
    return checkArrayPayload(fields, payload);
  }
  const fields = spec[direction];
  if (!fields) return [];
  return checkPayload(fields, payload);
}

const CHECK_TASK = new URL('./check-task.js', import.meta.url);

/**
 * Largest payloads checked on the event loop. A compact field map is one linear walk (256 KB:
 * about a millisecond). JSON Schema is another matter: `uniqueItems` compares every pair of
 * items (20 000 objects: 9 s) and a `pattern` runs RE2 over the whole string (a costly one:
 * 15 µs a byte), so only small payloads against small schemas stay inline.
 */
const INLINE_FIELD_MAP_CHARS = 256 * 1024;
const INLINE_SCHEMA_PAYLOAD_CHARS = 2 * 1024;
const INLINE_SCHEMA_CHARS = 2 * 1024;

/**
 * `validateDirection`, run where it cannot hold up the server: inline when the work is small,
 * otherwise in the worker pool, which ends it at the work budget (a 422 naming the budget).
 */
export async function checkDirectionOffLoop(work: WorkPool, spec: EndpointSpec, direction: Direction, payload: unknown): Promise<ContractViolation[]> {
  if (checkIsCheap(spec, direction, payload)) return validateDirection(spec, direction, payload);
  return work.run<ContractViolation[]>(CHECK_TASK, 'check', { spec, direction, payload }, 'contract check');
}

function checkIsCheap(spec: EndpointSpec, direction: Direction, payload: unknown): boolean {
  const schema = spec.schema?.[direction];
  if (schema === undefined) return jsonFitsIn(payload, INLINE_FIELD_MAP_CHARS);
  return jsonFitsIn(payload, INLINE_SCHEMA_PAYLOAD_CHARS) && jsonFitsIn(schema, INLINE_SCHEMA_CHARS);
}

/** `jsonSchemaError` for a schema being stored; a big one is compiled in the worker pool. */
export async function schemaProblemOffLoop(work: WorkPool, schema: unknown): Promise<string | null> {
  if (jsonFitsIn(schema, INLINE_SCHEMA_CHARS)) return jsonSchemaError(schema);
  return work.run<string | null>(CHECK_TASK, 'schemaProblem', { schema }, 'JSON Schema check');
}
