import type { FastifyInstance } from 'fastify';

/** HTTP routes of the rules domain. */
export default async function rulesRoutes(_app: FastifyInstance): Promise<void> {}
