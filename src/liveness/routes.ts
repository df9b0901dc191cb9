import type { FastifyInstance } from 'fastify';

/** HTTP routes of the liveness domain. */
export default async function livenessRoutes(_app: FastifyInstance): Promise<void> {}
