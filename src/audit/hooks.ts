import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/** App-wide request hooks of the audit domain (registered before every route). */
async function auditHooks(_app: FastifyInstance): Promise<void> {}

export default fp(auditHooks, { name: 'koor-audit-hooks' });
