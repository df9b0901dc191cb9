import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Server as McpServer } from '@modelcontextprotocol/sdk/server/index.js';
import { errorBody } from '../kernel/errors.js';
import { authInfoFor, createMcpServer } from './server.js';
import { presentWhileOpen } from '../liveness/presence.js';
import { mcpTransportChecks } from '../server/browser-safety.js';

interface Session {
  server: McpServer;
  transport: StreamableHTTPServerTransport;
  lastUsed: number;
  /** Who opened it (see clientOf); only they may use it. */
  client: string;
  /** The instance whose token opened it: its sessions end when it is deregistered. */
  instanceId?: string;
}

const SESSION_HEADER = 'mcp-session-id';
/** Sessions a client abandoned without DELETE are closed after this long without a request. */
const SESSION_IDLE_MS = 30 * 60_000;
/** Open sessions of one client: one more closes that client's least recently used one. */
export const MAX_SESSIONS_PER_CLIENT = 32;
/** Open sessions in all: past this a new session is refused (others' sessions are never closed to make room). */
export const MAX_SESSIONS = 1000;

/** Any role may talk MCP: each tool checks its own permission (see createMcpServer). */
const MCP_CONFIG = { permission: 'read' } as const;

const schema = (summary: string) => ({ tags: ['mcp'], summary, description: 'MCP StreamableHTTP endpoint (JSON-RPC); see docs/mcp.md' });

/**
 * Who a session belongs to: the calling instance, the admin, or — in local mode, where every
 * caller is anonymous — the caller's address.
 */
function clientOf(request: FastifyRequest): string {
  const { actor } = request;
  if (actor.instanceId) return `instance:${actor.instanceId}`;
  return actor.id === 'anonymous' ? `address:${request.ip}` : actor.id;
}

function sessionIdOf(request: FastifyRequest): string | undefined {
  const value = request.headers[SESSION_HEADER];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Tool calls in a POST body (a single JSON-RPC message or a batch). */
function toolCallCount(body: unknown): number {
  const messages = Array.isArray(body) ? body : [body];
  return messages.filter((m) => (m as { method?: unknown } | null)?.method === 'tools/call').length;
}

/**
 * An error in JSON-RPC's shape, which MCP clients read; Koor's own error body (with its
 * status and reason) rides along as the error's `data`.
 */
function rpcErrorBody(status: number, message: string, rpcCode = -32000) {
  return { jsonrpc: '2.0', error: { code: rpcCode, message, data: errorBody(status, message) }, id: null };
}

function rpcError(reply: FastifyReply, status: number, message: string) {
  return reply.status(status).send(rpcErrorBody(status, message));
}

/**
 * The MCP control plane at `/mcp` (SPEC §10), behind the same auth hook as REST. Clients that
 * initialize get a session (its id in `Mcp-Session-Id`) with its own server and transport;
 * a request without a session id that is not an initialize is served statelessly by a
 * throwaway server, so simple clients (curl, scripts) need no handshake.
 */
export default async function mcpRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const sessions = new Map<string, Session>();

  const closeSession = async (id: string) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    await session.transport.close().catch(() => undefined);
    await session.server.close().catch(() => undefined);
  };

  const sweep = setInterval(() => {
    const cutoff = Date.now() - SESSION_IDLE_MS;
    for (const [id, session] of sessions) if (session.lastUsed < cutoff) void closeSession(id);
  }, 60_000);
  sweep.unref();

  // A deregistered instance's sessions end with its token, on whichever replica they are.
  const stopWatching = ctx.hub.subscribe((event) => {
    if (event.topic !== 'agent.deregistered') return;
    const id = (event.data as { id?: unknown } | null)?.id;
    for (const [sessionId, session] of sessions) if (session.instanceId === id) void closeSession(sessionId);
  });

  app.addHook('onClose', async () => {
    clearInterval(sweep);
    stopWatching();
    await Promise.all([...sessions.keys()].map(closeSession));
  });

  /** Hands the raw request to a transport; from here on the SDK writes the response. */
  async function serve(request: FastifyRequest, reply: FastifyReply, transport: StreamableHTTPServerTransport) {
    (request.raw as IncomingMessage & { auth?: AuthInfo }).auth = authInfoFor(request.actor);
    reply.hijack();
    try {
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (err) {
      request.log.error({ err }, 'MCP request failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify(rpcErrorBody(500, 'internal error', -32603)));
      }
    }
  }

  /** A new session for the caller, or null when the server holds all the sessions it may. */
  async function openSession(request: FastifyRequest): Promise<StreamableHTTPServerTransport | null> {
    const client = clientOf(request);
    const own = [...sessions.entries()].filter(([, session]) => session.client === client);
    if (own.length >= MAX_SESSIONS_PER_CLIENT) {
      const [oldest] = own.sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0]!;
      await closeSession(oldest);
    } else if (sessions.size >= MAX_SESSIONS) {
      return null;
    }
    // A session that registers an instance acts as it: it ends when that instance is deregistered.
    const server = createMcpServer(ctx, (actor) => {
      const session = transport.sessionId ? sessions.get(transport.sessionId) : undefined;
      if (session) session.instanceId = actor.instanceId;
    });
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      // The SDK's own Host and Origin checks, from the lists the app's browser-safety hook uses.
      ...mcpTransportChecks(app.browserSafety, request),
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport, lastUsed: Date.now(), client, instanceId: request.actor.instanceId });
      },
      onsessionclosed: (id) => {
        void closeSession(id);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return transport;
  }

  async function statelessTransport(request: FastifyRequest, reply: FastifyReply): Promise<StreamableHTTPServerTransport> {
    const server = createMcpServer(ctx);
    const transport = new StreamableHTTPServerTransport({ ...mcpTransportChecks(app.browserSafety, request), sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.on('close', () => {
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    });
    await server.connect(transport);
    return transport;
  }

  function existingSession(request: FastifyRequest, reply: FastifyReply): Session | undefined {
    const id = sessionIdOf(request);
    const found = id ? sessions.get(id) : undefined;
    // Someone else's session is as unknown to this caller as one that never existed.
    const session = found?.client === clientOf(request) ? found : undefined;
    if (!id) rpcError(reply, 400, `missing ${SESSION_HEADER} header`);
    else if (!session) rpcError(reply, 404, `unknown MCP session ${id}: initialize a new one`);
    else session.lastUsed = Date.now();
    return session;
  }

  app.post('/mcp', { config: MCP_CONFIG, schema: schema('MCP requests (JSON-RPC over StreamableHTTP)') }, async (request, reply) => {
    // Every tool call is counted for the token tax, also those the SDK rejects as malformed.
    for (let i = toolCallCount(request.body); i > 0; i--) ctx.counters.countCall('mcp', request.actor.instanceId);
    if (sessionIdOf(request)) {
      const session = existingSession(request, reply);
      if (session) await serve(request, reply, session.transport);
      return reply;
    }
    const transport = isInitializeRequest(request.body) ? await openSession(request) : await statelessTransport(request, reply);
    if (!transport) return rpcError(reply, 503, `this server holds ${MAX_SESSIONS} MCP sessions, its limit: close one (DELETE /mcp) or try later`);
    await serve(request, reply, transport);
    return reply;
  });

  app.get('/mcp', { config: MCP_CONFIG, schema: schema('MCP server-to-client stream of a session (SSE)') }, async (request, reply) => {
    if (!sessionIdOf(request)) {
      // No session, no stream: stateless clients have nothing to listen to.
      return rpcError(reply.header('allow', 'POST, DELETE'), 405, 'GET /mcp needs an MCP session');
    }
    const session = existingSession(request, reply);
    // The session's stream is the agent listening: alive for as long as it is open.
    if (session) presentWhileOpen(ctx, request.actor, reply.raw);
    if (session) await serve(request, reply, session.transport);
    return reply;
  });

  app.delete('/mcp', { config: MCP_CONFIG, schema: schema('End an MCP session') }, async (request, reply) => {
    const session = existingSession(request, reply);
    if (session) await serve(request, reply, session.transport);
    return reply;
  });
}
