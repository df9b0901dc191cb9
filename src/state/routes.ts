import type { FastifyInstance } from 'fastify';

/** HTTP routes of the state domain. */
export default async function stateRoutes(_app: FastifyInstance): Promise<void> {}
