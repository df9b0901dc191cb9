// Schemas of the contracts routes: they validate requests, shape answers, write the OpenAPI
// document and give the handlers and the MCP validate_contract tool their types.
import { StringEnum, Type, type Static, type TSchema } from '../kernel/schema.js';
import { DIRECTIONS } from './payload.js';
import { MAX_CONTRACT_VIOLATIONS } from './validate.js';

const name = Type.String({ minLength: 1, maxLength: 256 });
export const contractParams = Type.Object({ project: name, name });

export const endpointSchema = Type.String({ minLength: 1 });
export const directionSchema = StringEnum(DIRECTIONS);

export const validateBody = Type.Object({
  endpoint: endpointSchema,
  direction: Type.Optional(directionSchema),
  payload: Type.Optional(Type.Unknown()),
});

export const liveTestBody = Type.Object({
  endpoint: endpointSchema,
  base_url: Type.String({ minLength: 1 }),
  test_data: Type.Optional(Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true } as TSchema)),
});

/** One way a payload breaks a contract: where (a JSON path, '' for the payload itself) and what. */
export const violationSchema = Type.Object({ path: Type.String(), message: Type.String() });
export type ContractViolation = Static<typeof violationSchema>;

const violationList = Type.Array(violationSchema);

export const payloadCheckSchema = Type.Partial(Type.Object({
  valid: Type.Boolean(),
  violations: violationList,
  truncated: Type.Boolean({ description: `Present (true) when only the first ${MAX_CONTRACT_VIOLATIONS} violations are listed` }),
}));
/** Every field is always there except `truncated`, present (true) only when the list was cut. */
export type PayloadCheck = Required<Omit<Static<typeof payloadCheckSchema>, 'truncated'>> & { truncated?: true };

export const liveTestSchema = Type.Partial(Type.Object({
  valid: Type.Boolean(),
  endpoint: Type.String(),
  status_code: Type.Integer(),
  request_violations: violationList,
  response_violations: violationList,
  error: Type.String(),
}));
/** A live test's outcome: every field is always there (status_code 0 and an error when no answer came). */
export type LiveTestResult = Required<Static<typeof liveTestSchema>>;
