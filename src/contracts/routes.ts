import type { FastifyInstance } from 'fastify';

/** HTTP routes of the contracts domain. */
export default async function contractsRoutes(_app: FastifyInstance): Promise<void> {}
