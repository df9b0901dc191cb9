import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ADMIN, ANONYMOUS, type Actor, type AppContext } from '../kernel/context.js';
import { unauthorized } from '../kernel/errors.js';
import { resolveInstanceToken } from '../instances/identity.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares two secrets in time that does not depend on where they differ (or on their lengths). */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header && header.startsWith('Bearer ')) return header.slice(7).trim();
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

/**
 * Decides who is calling from the credentials it presented, by one rule for every entry point
 * (HTTP routes here, the WebSocket upgrade in the events domain): an instance token names that
 * instance; the server token names the admin. With a server token configured, a caller with
 * neither is refused (null); without one (local mode) everyone passes, as `anonymous` unless
 * an instance token names them.
 */
export async function identifyCaller(ctx: AppContext, { bearer, instanceToken }: Credentials): Promise<Actor | null> {
  const serverToken = ctx.config.authToken;
  const isServerToken = serverToken !== '' && bearer !== undefined && secretsEqual(bearer, serverToken);
  const candidate = instanceToken ?? (isServerToken ? undefined : bearer);
  const instanceId = candidate ? await resolveInstanceToken(ctx, candidate) : null;
  if (instanceId) return { id: instanceId, instanceId };
  if (isServerToken) return ADMIN;
  return serverToken === '' ? ANONYMOUS : null;
}

/** Every request except `/health` is identified (and, with auth on, refused without a valid token). */
async function authPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest('actor', null as unknown as Actor);

  app.addHook('onRequest', async (request) => {
    request.actor = ANONYMOUS;
    if (request.url === '/health' || request.url.startsWith('/health?')) return;
    const actor = await identifyCaller(app.koor, { bearer: bearerToken(request), instanceToken: instanceTokenHeader(request) });
    if (!actor) throw unauthorized();
    request.actor = actor;
  });
}

export default fp(authPlugin, { name: 'koor-auth' });
