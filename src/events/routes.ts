import type { FastifyInstance } from 'fastify';

/** HTTP routes of the events domain. */
export default async function eventsRoutes(_app: FastifyInstance): Promise<void> {}
