import type { FastifyInstance } from 'fastify';

/** HTTP routes of the specs domain. */
export default async function specsRoutes(_app: FastifyInstance): Promise<void> {}
