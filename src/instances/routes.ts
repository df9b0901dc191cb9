import type { FastifyInstance } from 'fastify';

/** HTTP routes of the instances domain. */
export default async function instancesRoutes(_app: FastifyInstance): Promise<void> {}
