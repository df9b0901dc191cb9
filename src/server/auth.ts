import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ADMIN, ANONYMOUS, type Actor } from './context.js';
import { unauthorized } from './errors.js';
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

/**
 * Decides who is calling. With a server token configured, a request must carry it or a live
 * instance's token; without one (local mode) everything passes and instance tokens only name
 * the caller. `/health` is always open.
 */
async function authPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest('actor', null as unknown as Actor);
  const serverToken = app.koor.config.authToken;

  app.addHook('onRequest', async (request) => {
    request.actor = ANONYMOUS;
    if (request.url === '/health' || request.url.startsWith('/health?')) return;

    const bearer = bearerToken(request);
    const instanceToken = instanceTokenHeader(request);
    const isServerToken = serverToken !== '' && bearer !== undefined && secretsEqual(bearer, serverToken);

    let instanceId: string | null = null;
    const candidate = instanceToken ?? (isServerToken ? undefined : bearer);
    if (candidate) instanceId = await resolveInstanceToken(app.koor, candidate);

    if (instanceId) request.actor = { id: instanceId, instanceId };
    else if (isServerToken) request.actor = ADMIN;

    if (serverToken !== '' && !isServerToken && !instanceId) throw unauthorized();
  });
}

export default fp(authPlugin, { name: 'koor-auth' });
