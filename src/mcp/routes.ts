import type { FastifyInstance } from 'fastify';

/** HTTP routes of the mcp domain. */
export default async function mcpRoutes(_app: FastifyInstance): Promise<void> {}
