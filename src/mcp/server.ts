import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ANONYMOUS, type Actor, type AppContext } from '../kernel/context.js';
import { HttpError } from '../kernel/errors.js';
import { TOOLS, type Tool } from './tools.js';
import { refusal } from '../kernel/permissions.js';

/**
 * How the HTTP layer hands the caller (decided by the auth hook) to tool handlers: the SDK
 * passes `req.auth` through to each call as `authInfo`. The token itself is never put here.
 */
export function authInfoFor(actor: Actor): AuthInfo {
  return { token: '', clientId: actor.id, scopes: [], extra: { actor } };
}

function actorOf(authInfo: AuthInfo | undefined): Actor {
  const actor = authInfo?.extra?.actor as Actor | undefined;
  return actor ?? ANONYMOUS;
}

async function auditFailure(ctx: AppContext, actor: Actor, action: string, tool: string, detail: string): Promise<void> {
  try {
    await ctx.commit(async () => ({ value: undefined, audit: { actor: actor.id, action, resource: `mcp:${tool}`, detail, outcome: 'error' } }), { emits: false });
  } catch (err) {
    ctx.log.error({ err, action }, 'could not append audit entry for a failed MCP call');
  }
}

const INSTRUCTIONS = 'Koor control plane: identity and discovery only. Move data over REST or koor-cli (see get_endpoints).';

/** The tools/list answer: each tool's input schema is its TypeBox object, sent as JSON Schema. */
const LISTED_TOOLS = TOOLS.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.input }));
const TOOLS_BY_NAME = new Map<string, Tool>(TOOLS.map((tool) => [tool.name, tool]));

const answer = (text: string, isError = false): CallToolResult => ({ content: [{ type: 'text', text }], ...(isError ? { isError } : {}) });

/**
 * A fresh MCP server with every Koor tool; one per session (or per stateless request).
 * `onBind` hears when the session registers an instance and acts as it from then on.
 */
export function createMcpServer(ctx: AppContext, onBind: (actor: Actor) => void = () => undefined): Server {
  // The SDK's low-level server: its tool helper (McpServer) takes zod shapes only, and Koor's
  // tool schemas are the TypeBox (JSON Schema) objects its routes use.
  const server = new Server({ name: 'koor', version: ctx.version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  // The instance this session registered (a session opened without an instance token): its
  // later calls act as it. A request that carries an instance token always acts as that one.
  let bound: Actor | undefined;
  const session = {
    bind: (actor: Actor) => {
      bound = actor;
      onBind(actor);
    },
  };
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: LISTED_TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = TOOLS_BY_NAME.get(request.params.name);
    if (!tool) return answer(`error: no tool named "${request.params.name}"; tools/list names them`, true);
    const caller = actorOf(extra.authInfo);
    const actor = !caller.instanceId && bound ? bound : caller;
    try {
      // Who may call it is decided first, as for REST routes (before the input is looked at).
      const refused = refusal(actor, tool.needs((request.params.arguments ?? {}) as never, actor));
      if (refused) {
        ctx.prometheus.countForbidden(actor.role);
        throw refused;
      }
      const args = tool.checkArguments(request.params.arguments);
      return answer(await tool.run(args as never, { ctx, actor, session }));
    } catch (err) {
      // Domain errors carry a message meant for the caller; anything else stays in the log.
      if (!(err instanceof HttpError)) ctx.log.error({ err, tool: tool.name }, 'MCP tool failed');
      const message = err instanceof HttpError ? err.message : 'internal error';
      // A refused change is audited as over REST (its success entry comes with the change).
      if (tool.auditAction) await auditFailure(ctx, actor, tool.auditAction, tool.name, message);
      return answer(`error: ${message}`, true);
    }
  });
  return server;
}
