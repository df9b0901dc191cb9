import type { Actor, Role } from './context.js';
import { forbidden, type HttpError } from './errors.js';

/**
 * What a route (or MCP tool) needs from its caller, one value per row of SPEC §15's table:
 *
 * - `public`: nothing, not even a token (only `/health`).
 * - `read`: any role: reading state, specs, events, instances, rules, audit, metrics, ….
 * - `write`: admin or agent: writing state and specs, publishing, validating, leases, messages, ….
 * - `propose`: admin or agent: proposing rules for review.
 * - `own-instance`: admin, or the agent whose instance the route's `:id` names.
 * - `admin`: the admin alone: registering, acting on other instances, rule review, templates,
 *   webhooks, metrics reset, compliance runs, export, import.
 */
export type Permission = 'public' | 'read' | 'write' | 'propose' | 'own-instance' | 'admin';

export const PERMISSIONS: readonly Permission[] = ['public', 'read', 'write', 'propose', 'own-instance', 'admin'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route (SPEC §15); every route declares one, or the app does not start. */
    permission?: Permission;
    /**
     * What the route does, in words that finish "an agent token may not …": `create webhooks`.
     * Every route that refuses some role names it, so a refusal says what was refused. For
     * `own-instance` routes it takes the instance as its object: `send a heartbeat for`.
     */
    act?: string;
  }
}

/** The roles each permission lets through. */
const ALLOWED: Readonly<Record<Permission, readonly Role[]>> = {
  public: ['admin', 'agent', 'reader'],
  read: ['admin', 'agent', 'reader'],
  write: ['admin', 'agent'],
  propose: ['admin', 'agent'],
  'own-instance': ['admin', 'agent'],
  admin: ['admin'],
};

/** Whether a permission lets `role` through at all (for `own-instance`, an agent only on its own instance). */
export function roleMay(role: Role, permission: Permission): boolean {
  return ALLOWED[permission].includes(role);
}

/** How a refusal names the caller: "an agent token", "a reader token". */
const tokenOf = (role: Role) => (role === 'agent' ? 'an agent token' : role === 'reader' ? 'a reader token' : 'the admin');

export interface Need {
  permission: Permission;
  /** See FastifyContextConfig.act. */
  act?: string;
  /** For `own-instance`: the instance the call acts on. */
  instanceId?: string;
}

/**
 * The one permission check, for routes (the auth hook) and MCP tools alike: null when the
 * caller may go on, else the 403 to answer with, naming the role and what it may not do.
 */
export function refusal(actor: Actor, need: Need): HttpError | null {
  const { permission } = need;
  const act = need.act ?? 'call this route';
  if (!roleMay(actor.role, permission)) {
    return forbidden(`${tokenOf(actor.role)} may not ${act}${permission === 'own-instance' ? ' an instance' : ''}`);
  }
  if (permission === 'own-instance' && actor.role === 'agent' && need.instanceId !== actor.instanceId) {
    return forbidden(`${tokenOf(actor.role)} may not ${act} instance ${need.instanceId ?? '(none)'}: an agent acts only on its own instance (${actor.instanceId})`);
  }
  return null;
}
