import type { FastifyInstance } from 'fastify';

/** HTTP routes of the backup domain. */
export default async function backupRoutes(_app: FastifyInstance): Promise<void> {}
