import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler, RouteOptions } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `area.verb` recorded in the audit log for this route; every mutating route sets one. */
    auditAction?: string;
  }
}

const recorded = Symbol('koor.auditFailureRecorded');

export interface RouteAuditInfo {
  method: string;
  url: string;
  /** Undefined for routes that change nothing. */
  auditAction?: string;
  /** Who may call it (src/kernel/permissions.ts). */
  permission?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route of the app with the audit action it declares: for checks that no mutation goes unaudited. */
    auditCatalog: RouteAuditInfo[];
  }
}

export function routeAuditCatalog(app: FastifyInstance): RouteAuditInfo[] {
  return app.auditCatalog;
}

/** What the audit log names as the thing a failed call was about: its path parameters, else its path. */
export function auditResource(request: FastifyRequest): string {
  const params = request.params as Record<string, unknown> | undefined;
  const values = params ? Object.values(params).filter((v) => v !== undefined && v !== '') : [];
  if (values.length > 0) return values.map(String).join('/');
  return request.url.split('?')[0]!;
}

// Every error body is `{error, code, reason}` (see kernel/errors.ts); the message is the entry's detail.
function errorMessage(payload: unknown, status: number): string {
  const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
  if (text) {
    try {
      const body = JSON.parse(text) as { error?: unknown };
      if (typeof body.error === 'string') return body.error;
    } catch {
      // not JSON: fall through to the status alone
    }
  }
  return `HTTP ${status}`;
}

/**
 * Records failed mutations. A domain's change carries its success entry through the committer;
 * a call that ends with status >= 400 never got that far (or rolled back), so this hook
 * commits one `outcome: "error"` entry for it. It runs in onSend, which sees every reply of
 * the route (schema validation failures and auth refusals included) and finishes before the
 * client gets the answer, so a client that reads the log right after a failure finds it.
 * Refusals of unknown callers (401) are left out; a known caller refused by its role (403) is
 * recorded.
 * It is attached only to routes that declare `config.auditAction`, so other routes pay nothing.
 */
async function auditHooks(app: FastifyInstance): Promise<void> {
  const appendFailure = async (request: FastifyRequest, status: number, action: string, payload: unknown) => {
    try {
      const note = {
        actor: request.actor?.id ?? 'anonymous',
        action,
        resource: auditResource(request),
        detail: errorMessage(payload, status),
        outcome: 'error' as const,
      };
      await app.koor.commit(async () => ({ value: undefined, audit: note }), { emits: false });
    } catch (err) {
      // The caller's answer must not change because the log could not be written; say so loudly.
      request.log.error({ err, action }, 'could not append audit entry for a failed call');
    }
  };

  // Callback style, not async: a successful call (the hot path) passes straight through
  // without allocating a promise.
  const recordFailure: onSendHookHandler = function (request: FastifyRequest, reply: FastifyReply, payload: unknown, done) {
    const status = reply.statusCode;
    const action = request.routeOptions.config.auditAction;
    const marked = request as unknown as Record<symbol, boolean>;
    // A request refused before anyone was identified (browser safety: a foreign Host or
    // Origin) is a web page's attempt, not a caller's call: storing it would let any page
    // fill the disk, so it leaves no entry. Neither does a 401: its caller is nobody we know,
    // and a flood of them must not fill the disk either (SPEC §15); it is counted in the
    // Prometheus metrics instead.
    if (status < 400 || status === 401 || !action || marked[recorded] || !request.actor) {
      done(null, payload);
      return;
    }
    marked[recorded] = true;
    void appendFailure(request, status, action, payload).then(() => done(null, payload));
  };

  const catalog: RouteAuditInfo[] = [];
  app.decorate('auditCatalog', catalog);
  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) catalog.push({ method, url: route.url, auditAction: route.config?.auditAction, permission: route.config?.permission });
    if (!route.config?.auditAction) return;
    const existing = route.onSend ? (Array.isArray(route.onSend) ? route.onSend : [route.onSend]) : [];
    route.onSend = [...existing, recordFailure];
  });
}

export default fp(auditHooks, { name: 'koor-audit-hooks' });
