import type { FastifyInstance } from 'fastify';
import { formatUptime } from '../kernel/duration.js';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/health', {
    schema: {
      summary: 'Liveness probe; never needs a token',
      tags: ['health'],
      security: [],
      response: {
        200: {
          type: 'object',
          properties: { status: { type: 'string' }, uptime: { type: 'string' }, version: { type: 'string' } },
          required: ['status', 'uptime', 'version'],
        },
      },
    },
  }, async () => ({ status: 'ok', uptime: formatUptime(Date.now() - app.koor.startedAt), version: app.koor.version }));
}
