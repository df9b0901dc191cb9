import type { FastifyInstance } from 'fastify';

/** HTTP routes of the llm domain. */
export default async function llmRoutes(_app: FastifyInstance): Promise<void> {}
