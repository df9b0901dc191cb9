import type { FastifyInstance } from 'fastify';

/** HTTP routes of the metrics domain. */
export default async function metricsRoutes(_app: FastifyInstance): Promise<void> {}
