import type { FastifyInstance } from 'fastify';

/** HTTP routes of the audit domain. */
export default async function auditRoutes(_app: FastifyInstance): Promise<void> {}
