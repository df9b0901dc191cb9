import { instanceActor, type Actor, type AppContext } from '../kernel/context.js';
import { activateInstance, INSTANCE_ACTIONS, listInstances, registerInstance, setIntent, LIMITS, type Instance } from '../instances/instances.js';
import { capabilitiesSchema, instanceFilter, intentBody, registerBody } from '../instances/schemas.js';
import { proposeRule } from '../rules/lifecycle.js';
import { proposeBody } from '../rules/schemas.js';
import { validateContractPayload } from '../contracts/contracts.js';
import { contractParams, directionSchema, validateBody } from '../contracts/schemas.js';
import { badRequest } from '../kernel/errors.js';
import { Type, type Static, type TObject } from '../kernel/schema.js';
import { RULE_ACTIONS } from '../rules/rules.js';
import { argumentChecker, type ArgumentChecker } from './arguments.js';
import type { Need } from '../kernel/permissions.js';

/** What a tool handler gets besides its arguments: the app and who is calling. */
export interface ToolCall {
  ctx: AppContext;
  actor: Actor;
  /**
   * The MCP session the call came in (none for a stateless request): `bind` makes the rest of
   * the session act as an instance, as if its token had been sent (SPEC §10).
   */
  session?: { bind(actor: Actor): void };
}

/**
 * One MCP tool as data. Its description and schema enter every agent's context, so both stay
 * terse; its answer is one compact line (or one line per item), never a JSON dump. Its input
 * schema is built from the same TypeBox schemas as the REST routes that do the same thing
 * (so a limit is written once), and is what tools/list shows and what checks each call.
 */
export interface ToolDefinition<Input extends TObject = TObject> {
  name: string;
  description: string;
  /** For tools that change something: the audit action a refused call is recorded under (its domain's constant). */
  auditAction?: string;
  /**
   * Who may call it (SPEC §15), checked by the same function as the REST routes' permissions
   * before the tool runs; `instanceId` names the instance an `own-instance` tool acts on.
   */
  needs(args: Partial<Static<Input>>, actor: Actor): Need;
  input: Input;
  run(args: Static<Input>, call: ToolCall): Promise<string>;
}

/** A tool ready to serve: its definition plus the checker compiled from its input schema. */
export type Tool = ToolDefinition & { checkArguments: ArgumentChecker };

const defineTool = <Input extends TObject>(tool: ToolDefinition<Input>) =>
  ({ ...tool, checkArguments: argumentChecker(tool.input) }) as ToolDefinition<Input> & { checkArguments: ArgumentChecker };

/** `key=value`, quoting values that contain spaces or quotes, and nothing for empty values. */
function pairs(fields: Record<string, string | number | undefined>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : v}`)
    .join(' ');
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function describeInstance(i: Instance): string {
  return pairs({
    id: i.id,
    name: i.name,
    status: i.status,
    stack: i.stack,
    workspace: i.workspace,
    caps: i.capabilities.join(','),
    intent: clip(i.intent, 160),
  });
}

/** `"code-review, testing"` → `['code-review', 'testing']`, as Go Koor splits it (empty items dropped). */
function splitCapabilities(list: string): string[] {
  return list.split(',').map((c) => c.trim()).filter((c) => c !== '');
}

/** Most violations a validate_contract answer lists: the rest is a count (REST lists them all). */
const MAX_LISTED_VIOLATIONS = 20;

export const registerInstanceTool = defineTool({
  name: 'register_instance',
  auditAction: INSTANCE_ACTIONS.register,
  // Registering is the admin's; an agent calling it only re-activates itself (its own instance).
  needs: (_args, actor) => (actor.instanceId ? { permission: 'own-instance', act: 'activate', instanceId: actor.instanceId } : { permission: 'admin', act: 'register instances' }),
  description: 'Register this agent. Returns id and token; move data via REST/koor-cli, not MCP.',
  input: Type.Object({
    // An agent must name itself here (REST leaves an empty name to the domain's check).
    name: Type.String({ minLength: 1, maxLength: LIMITS.name }),
    ...Type.Pick(registerBody, ['workspace', 'intent', 'stack']).properties,
    // Go Koor's tool takes a comma-separated string; an array works too.
    capabilities: Type.Optional(Type.Union([capabilitiesSchema, Type.String()])),
  }),
  async run(args, { ctx, actor, session }) {
    // A session that already acts as an instance (its token, or an earlier registration) is
    // that agent: registering again re-activates it rather than making a second one.
    if (actor.instanceId) {
      const instance = args.intent !== undefined ? await setIntent(ctx, actor.instanceId, args.intent, actor) : await activateInstance(ctx, actor.instanceId, actor);
      return `id=${instance.id} status=${instance.status} — this session already acts as this instance (re-activated); keep using its token`;
    }
    const capabilities = typeof args.capabilities === 'string' ? splitCapabilities(args.capabilities) : args.capabilities;
    const instance = await registerInstance(ctx, { ...args, capabilities }, actor);
    session?.bind(instanceActor(instance.id));
    return `id=${instance.id} token=${instance.token} — this session now acts as it; use REST at ${ctx.baseUrl}/api (header X-Koor-Instance-Token) or koor-cli; see get_endpoints`;
  },
});

export const discoverInstancesTool = defineTool({
  name: 'discover_instances',
  needs: () => ({ permission: 'read' }),
  description: 'List registered agents; filters match exactly.',
  input: Type.Pick(instanceFilter, ['name', 'workspace', 'stack', 'capability']),
  async run(args, { ctx }) {
    const found = await listInstances(ctx, args);
    return [`count=${found.length}`, ...found.map(describeInstance)].join('\n');
  },
});

export const setIntentTool = defineTool({
  name: 'set_intent',
  auditAction: INSTANCE_ACTIONS.intent,
  needs: (args, actor) => ({ permission: 'own-instance', act: 'set the intent of', instanceId: args.instance_id ?? actor.instanceId }),
  description: 'Set what an agent is working on now (also a heartbeat); instance_id defaults to this session\'s.',
  input: Type.Object({ instance_id: Type.Optional(Type.String({ minLength: 1 })), intent: intentBody.properties.intent }),
  async run(args, { ctx, actor }) {
    const id = args.instance_id ?? actor.instanceId;
    if (!id) throw badRequest('instance_id is required: this session acts as no instance (send its token, or call register_instance)');
    const instance = await setIntent(ctx, id, args.intent, actor);
    return `ok ${pairs({ id: instance.id, status: instance.status })}`;
  },
});

export const getEndpointsTool = defineTool({
  name: 'get_endpoints',
  needs: () => ({ permission: 'read' }),
  description: 'Koor REST base URL, main endpoints and CLI usage.',
  input: Type.Object({}),
  async run(_args, { ctx }) {
    const base = `${ctx.baseUrl}/api`;
    return [
      `base=${base} auth: Authorization: Bearer <token> or X-Koor-Instance-Token: <token>; docs ${base}/openapi.json`,
      'state: GET /state, GET|PUT|DELETE /state/{key} (If-Match for compare-and-swap)',
      'specs: GET /specs/{project}, GET|PUT|DELETE /specs/{project}/{name}',
      'events: POST /events/publish {topic,data}, GET /events/history?topic=, WS /events/subscribe?pattern=',
      'instances: GET /instances, POST /instances/{id}/heartbeat',
      'rules: POST /validate/{project} {content,filename}, POST /rules/propose',
      'leases: POST /leases {resources,reason,ttl} (409 names the holder), POST /leases/check {paths}, DELETE /leases/{id}',
      'messages: POST /messages {to,body}, GET /messages/inbox?unread=1&wait=30s, POST /messages/{id}/ack',
      'cli (same data; its output reaches your context only as far as you print it: use --field, --if-changed): koor-cli state get|set|list, specs get|set, events publish|history|subscribe, lease acquire|check|release, send, inbox --unread, instances list, heartbeat ID; settings: KOOR_SERVER, KOOR_TOKEN',
    ].join('\n');
  },
});

export const proposeRuleTool = defineTool({
  name: 'propose_rule',
  auditAction: RULE_ACTIONS.propose,
  needs: () => ({ permission: 'propose', act: 'propose rules' }),
  description: 'Propose a validation rule for human review.',
  input: Type.Object({
    ...Type.Pick(proposeBody, ['project', 'rule_id', 'pattern']).properties,
    // Go Koor's tool requires a message; REST lets it default to ''.
    message: Type.String({ minLength: 1 }),
    ...Type.Pick(proposeBody, ['severity', 'match_type', 'stack', 'proposed_by', 'context']).properties,
  }),
  async run(args, { ctx, actor }) {
    const proposed = await proposeRule(ctx, args, actor);
    return pairs({ project: proposed.project, rule_id: proposed.rule_id, status: proposed.status });
  },
});

export const validateContractTool = defineTool({
  name: 'validate_contract',
  needs: () => ({ permission: 'write', act: 'validate contracts' }),
  description: 'Check a payload against a stored API contract endpoint.',
  input: Type.Object({
    project: contractParams.properties.project,
    contract: contractParams.properties.name,
    endpoint: validateBody.properties.endpoint,
    direction: directionSchema,
    // Go Koor sends the payload as JSON text; a JSON value works too.
    payload: Type.Optional(Type.Unknown()),
  }),
  async run(args, { ctx }) {
    const payload = typeof args.payload === 'string' ? parsePayloadText(args.payload) : args.payload ?? {};
    const check = await validateContractPayload(ctx, args.project, args.contract, { endpoint: args.endpoint, direction: args.direction, payload });
    const listed = check.violations.slice(0, MAX_LISTED_VIOLATIONS);
    const more = check.violations.length - listed.length + (check.truncated ? 1 : 0);
    return [
      pairs({ valid: String(check.valid), violations: check.violations.length || undefined }),
      ...listed.map((v) => `${v.path || '(payload)'}: ${clip(v.message, 200)}`),
      ...(more > 0 ? [`… more: POST /api/contracts/{project}/{name}/validate lists them`] : []),
    ].join('\n');
  },
});

/** Go Koor's payload is JSON text (empty meaning `{}`). */
function parsePayloadText(payload: string): unknown {
  if (payload.trim() === '') return {};
  try {
    return JSON.parse(payload);
  } catch (err) {
    throw badRequest(`invalid payload JSON: ${(err as Error).message}`);
  }
}

/** Every tool the MCP endpoint offers, in the order `tools/list` shows them. */
export const TOOLS: Tool[] = [
  registerInstanceTool,
  discoverInstancesTool,
  setIntentTool,
  getEndpointsTool,
  proposeRuleTool,
  validateContractTool,
] as unknown as Tool[];
