import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { ADMIN, ANONYMOUS, READER, instanceActor, type Actor, type AppContext } from '../kernel/context.js';
import { forbidden, unauthorized } from '../kernel/errors.js';
import { resolveInstanceToken } from '../instances/identity.js';
import { PERMISSIONS, refusal } from '../kernel/permissions.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares two secrets in time that does not depend on where they differ (or on their lengths). */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

// RFC 7235: the scheme name is case-insensitive (`bearer`, `BEARER`).
const BEARER = /^bearer +(.*)$/i;

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? BEARER.exec(header) : null;
  if (match) return match[1]!.trim();
  // Browsers cannot set headers on a WebSocket or EventSource; they may pass ?token= instead.
  if (request.method === 'GET' && request.url.startsWith('/api/events/subscribe')) {
    const token = (request.query as Record<string, unknown> | undefined)?.token;
    if (typeof token === 'string') return token;
  }
  return undefined;
}

function instanceTokenHeader(request: FastifyRequest): string | undefined {
  const value = request.headers['x-koor-instance-token'];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** What a caller presented: a bearer token (header or `?token=`) and/or an instance token header. */
export interface Credentials {
  bearer?: string;
  instanceToken?: string;
}

/** Who a caller is, or why they are refused (a 401 message). */
export type Identification = { actor: Actor; withServerToken: boolean } | { refused: string };

const INVALID = 'invalid or missing bearer token';

/** Who one token names: the admin, a reader, a live instance, or nobody. */
async function whoseToken(ctx: AppContext, token: string): Promise<Actor | null> {
  const { authToken, readTokens } = ctx.config;
  if (authToken !== '' && secretsEqual(token, authToken)) return ADMIN;
  // Every read token is compared, so the time taken does not tell which one matched.
  let reader = false;
  for (const readToken of readTokens) reader = secretsEqual(token, readToken) || reader;
  if (reader) return READER;
  const instanceId = await resolveInstanceToken(ctx, token);
  return instanceId ? instanceActor(instanceId) : null;
}

/**
 * Decides who is calling from the credentials it presented, by one rule for every entry point
 * (HTTP routes, WebSocket upgrades and SSE streams, `/mcp`):
 *
 * - every credential presented must be valid, in every mode: a wrong or revoked token is a
 *   401, never quietly ignored (a deregistered instance's token stops working at once);
 * - an instance token names that instance (role agent), also in local mode; the server token
 *   names the admin; a read token a reader;
 * - two credentials must name the same caller, with one exception: the server token may come
 *   with an instance token (koor-cli does so after `register`): the admin speaks as that agent;
 * - no credential at all: the admin in local mode (no server token), else a 401.
 */
export async function identifyCaller(ctx: AppContext, { bearer, instanceToken }: Credentials): Promise<Identification> {
  const fromBearer = bearer !== undefined ? await whoseToken(ctx, bearer) : undefined;
  if (fromBearer === null) return { refused: INVALID };
  const fromHeader = instanceToken !== undefined ? await resolveInstanceToken(ctx, instanceToken) : undefined;
  if (fromHeader === null) return { refused: 'invalid X-Koor-Instance-Token: it names no registered instance' };
  if (fromHeader !== undefined) {
    if (fromBearer === undefined || fromBearer === ADMIN) return { actor: instanceActor(fromHeader), withServerToken: fromBearer === ADMIN };
    if (fromBearer.instanceId !== fromHeader) {
      return { refused: 'the bearer token and X-Koor-Instance-Token name different callers: send one, or the server token with the instance token' };
    }
  }
  if (fromBearer) return { actor: fromBearer, withServerToken: false };
  return ctx.config.authToken === '' ? { actor: ANONYMOUS, withServerToken: false } : { refused: INVALID };
}

/**
 * Every request is identified and then held to its route's declared permission (SPEC §15), in
 * one onRequest hook, before any body is read: a refused request costs a header parse and no
 * more. WebSocket upgrades and SSE streams are routes like any other, so they pass here too.
 * A route without a declared permission makes the app fail to start.
 */
async function authPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest('actor', null as unknown as Actor);

  app.addHook('onRoute', (route: RouteOptions) => {
    const permission = route.config?.permission;
    if (permission === undefined || !PERMISSIONS.includes(permission)) {
      throw new Error(`route ${[route.method].flat().join(',')} ${route.url} declares no permission: set config.permission to one of ${PERMISSIONS.join(', ')} (src/kernel/permissions.ts)`);
    }
  });

  app.addHook('onRequest', async (request) => {
    request.actor = ANONYMOUS;
    const config = request.routeOptions.config;
    if (config.permission === 'public') return;
    const ctx = app.koor;
    const who = await identifyCaller(ctx, { bearer: bearerToken(request), instanceToken: instanceTokenHeader(request) });
    if ('refused' in who) {
      ctx.prometheus.countUnauthorized();
      throw unauthorized(who.refused);
    }
    request.actor = who.actor;
    // No permission: no route matched; the 404 that follows tells the caller nothing new.
    if (config.permission === undefined) return;
    const instanceId = (request.params as { id?: string } | undefined)?.id;
    const refused = refusal(who.actor, { permission: config.permission, act: config.act, instanceId });
    if (!refused) return;
    ctx.prometheus.countForbidden(who.actor.role);
    // koor-cli sends both tokens once registered; say how to act as the admin instead.
    throw who.withServerToken ? forbidden(`${refused.message} (this request carried an instance token, so it acts as that agent: send the server token alone to act as the admin)`) : refused;
  });
}

export default fp(authPlugin, { name: 'koor-auth' });
