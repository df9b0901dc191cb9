import type { FastifyInstance } from 'fastify';

/** HTTP routes of the compliance domain. */
export default async function complianceRoutes(_app: FastifyInstance): Promise<void> {}
