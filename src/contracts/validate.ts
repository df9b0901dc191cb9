import { badRequest } from '../kernel/errors.js';
import { parseEndpointKey } from './document.js';
import { validateWithJsonSchema } from './json-schema.js';
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
