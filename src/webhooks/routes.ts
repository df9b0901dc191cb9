import type { FastifyInstance } from 'fastify';

/** HTTP routes of the webhooks domain. */
export default async function webhooksRoutes(_app: FastifyInstance): Promise<void> {}
