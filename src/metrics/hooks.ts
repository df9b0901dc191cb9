import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/** App-wide request hooks of the metrics domain (registered before every route). */
async function metricsHooks(_app: FastifyInstance): Promise<void> {}

export default fp(metricsHooks, { name: 'koor-metrics-hooks' });
