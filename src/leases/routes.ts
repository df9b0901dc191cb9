import type { FastifyInstance } from 'fastify';
import { heldRequests, holdUntilAnswered, parseWait } from '../kernel/long-poll.js';
import { conflict } from '../kernel/errors.js';
import { IntervalJob } from '../kernel/jobs.js';
import { presentWhileOpen } from '../liveness/presence.js';
import {
  acquireLease,
  checkAcquire,
  checkLeases,
  conflictsOf,
  endLapsedLeases,
  LEASE_ACQUIRE,
  LEASE_RELEASE,
  LEASE_RENEW,
  listLeases,
  releaseLease,
  renewLease,
  type Lease,
  type LeaseConflict,
} from './leases.js';
import { acquireBody, checkBody, conflictResponse, conflictSchema, idParams, leaseSchema, listQuery, releasedSchema, renewBody, waitQuery } from './schemas.js';
import { KoorErrorRef, Type, typedRoutes } from '../kernel/schema.js';

const tags = ['leases'];
const error = KoorErrorRef;

/** HTTP routes of leases (SPEC §16), and the job that ends leases that ran out or lost their holder. */
export default async function leasesRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const abandoned = heldRequests(app);
  const api = typedRoutes(app);

  api.post('/api/leases', {
    config: { permission: 'write', act: 'acquire leases', auditAction: LEASE_ACQUIRE },
    schema: {
      tags,
      summary: 'Acquire a lease on all of the resources, or none (409 names the holders); ?wait=30s waits for them to go',
      querystring: waitQuery,
      body: acquireBody,
      response: { 201: leaseSchema, 400: error, 409: conflictResponse },
    },
  }, async (request, reply) => {
    const checked = checkAcquire(request.body);
    const waitMs = parseWait(request.query.wait);
    let lease: Lease;
    if (waitMs === 0) {
      lease = await acquireLease(ctx, checked, request.actor);
    } else {
      const signal = abandoned(reply);
      presentWhileOpen(ctx, request.actor, reply.raw);
      let lastRefusal: unknown;
      let conflicts: LeaseConflict[] = [];
      lease = await holdUntilAnswered(ctx.hub, {
        attempt: async () => {
          if (signal.aborted) return undefined;
          try {
            return await acquireLease(ctx, checked, request.actor);
          } catch (err) {
            const found = conflictsOf(err);
            if (!found) throw err;
            lastRefusal = err;
            conflicts = found;
            return undefined;
          }
        },
        // A lease ending in this project may free the way; so may the soonest expiry.
        wakesOn: (event) => event.topic === 'lease.released' && (event.data as { project?: unknown } | null)?.project === checked.project,
        retryAt: () => Math.min(...conflicts.map((c) => Date.parse(c.expires_at) + 1)),
        timedOut: () => {
          // Only a client that left before the first try has no refusal of its own.
          throw lastRefusal ?? conflict('stopped waiting: the client went away', { reason: 'lease_conflict', conflicts: [] });
        },
      }, waitMs, signal);
      // Granted after the client left: nobody will use it, so it must not block anyone.
      if (signal.aborted) {
        await releaseLease(ctx, lease.id, request.actor).catch(() => undefined);
      }
    }
    return reply.code(201).send(lease);
  });

  api.post('/api/leases/:id/renew', {
    config: { permission: 'write', act: 'renew leases', auditAction: LEASE_RENEW },
    schema: {
      tags,
      summary: 'Extend a lease by its TTL (or a new one) from now; 404 once it ended',
      params: idParams,
      body: renewBody,
      response: { 200: leaseSchema, 400: error, 403: error, 404: error },
    },
  }, async (request) => renewLease(ctx, request.params.id, request.body?.ttl, request.actor));

  api.delete('/api/leases/:id', {
    config: { permission: 'write', act: 'release leases', auditAction: LEASE_RELEASE },
    schema: {
      tags,
      summary: 'Release a lease (only its holder or the admin)',
      params: idParams,
      response: { 200: releasedSchema, 403: error, 404: error },
    },
  }, async (request) => releaseLease(ctx, request.params.id, request.actor));

  api.get('/api/leases', {
    config: { permission: 'read' },
    schema: {
      tags,
      summary: 'Active leases, oldest first; filters holder, project, resource=PATH',
      querystring: listQuery,
      response: { 200: Type.Array(leaseSchema), 400: error },
    },
  }, async (request) => listLeases(ctx, request.query));

  api.post('/api/leases/check', {
    config: { permission: 'read' },
    schema: {
      tags,
      summary: "What stops the caller from changing these paths: other holders' leases that overlap them",
      body: checkBody,
      response: { 200: Type.Object({ conflicts: Type.Array(conflictSchema) }), 400: error },
    },
  }, async (request) => ({ conflicts: await checkLeases(ctx, request.body, request.actor) }));

  // Expired leases stop counting at once (every check compares expires_at with now); this job
  // deletes them and announces their end, and ends the leases of stale or deregistered holders.
  const lapseEvery = Math.min(ctx.config.livenessIntervalMs, 5_000);
  const lapse = new IntervalJob('leases.lapse', lapseEvery, () => endLapsedLeases(ctx), ctx.log);
  ctx.jobs.add(lapse);
  // A holder reported stale or deregistered loses its leases now, not at the next tick.
  ctx.hub.subscribe((event) => {
    if ((event.topic === 'agent.stale' || event.topic === 'agent.deregistered') && ctx.jobs.isLeader) {
      // A run already under way may have read the registry before this news: run again after it.
      void lapse.runOnce().then(() => lapse.runOnce());
    }
  });
}
