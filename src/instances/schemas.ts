// Schemas of the instance registry: they validate requests, shape answers, write the OpenAPI
// document and give the handlers, the domain (Instance, RegisterInput, InstanceFilter) and
// the MCP tools their types.
import { StringEnum, Type, type Static } from '../kernel/schema.js';
import { INSTANCE_STATUSES, LIMITS } from './instances.js';

export const capabilitiesSchema = Type.Array(Type.String(), { maxItems: LIMITS.capabilities });

/** An instance as every channel shows it. The token is never part of it. */
export const instanceSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  workspace: Type.String(),
  intent: Type.String(),
  stack: Type.String(),
  capabilities: Type.Array(Type.String()),
  status: StringEnum(INSTANCE_STATUSES),
  registered_at: Type.String({ format: 'date-time' }),
  last_seen: Type.String({ format: 'date-time' }),
  /** The agent's running service, or '' when it has none. */
  base_url: Type.String(),
});
export type Instance = Static<typeof instanceSchema>;

/** What registration answers: the instance plus its token, the only time the token is shown. */
export const registeredInstanceSchema = Type.Object({
  ...instanceSchema.properties,
  token: Type.String({ description: 'the instance token; store it, it is never shown again' }),
});
export type RegisteredInstance = Static<typeof registeredInstanceSchema>;

export const registerBody = Type.Object({
  name: Type.String({ maxLength: LIMITS.name }),
  workspace: Type.Optional(Type.String({ maxLength: LIMITS.workspace })),
  intent: Type.Optional(Type.String({ maxLength: LIMITS.intent })),
  stack: Type.Optional(Type.String({ maxLength: LIMITS.stack })),
  capabilities: Type.Optional(capabilitiesSchema),
  base_url: Type.Optional(Type.String({ maxLength: LIMITS.baseUrl, description: 'http(s) URL of the agent\'s running service' })),
});
export type RegisterInput = Static<typeof registerBody>;

export const instanceFilter = Type.Object({
  name: Type.Optional(Type.String()),
  workspace: Type.Optional(Type.String()),
  stack: Type.Optional(Type.String()),
  /** Instances that list this capability. */
  capability: Type.Optional(Type.String()),
  status: Type.Optional(StringEnum(INSTANCE_STATUSES)),
});
export type InstanceFilter = Static<typeof instanceFilter>;

export const intentBody = Type.Object({ intent: Type.String({ maxLength: LIMITS.intent }) });
