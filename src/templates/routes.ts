import type { FastifyInstance } from 'fastify';

/** HTTP routes of the templates domain. */
export default async function templatesRoutes(_app: FastifyInstance): Promise<void> {}
