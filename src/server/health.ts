import type { FastifyInstance } from 'fastify';
import { formatUptime } from '../kernel/duration.js';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/health', {
    config: { permission: 'public' },
    schema: {
      summary: 'Liveness probe; never needs a token. "degraded", with the reason, while the database cannot take writes',
      tags: ['health'],
      security: [],
      response: {
        200: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['ok', 'degraded'] },
            reason: { type: 'string', description: 'When degraded: why the database does not take writes (e.g. "disk full: …")' },
            since: { type: 'string', description: 'When degraded: since when (ISO 8601)' },
            uptime: { type: 'string' },
            version: { type: 'string' },
          },
          required: ['status', 'uptime', 'version'],
        },
      },
    },
  }, async () => ({ ...app.koor.db.health.state, uptime: formatUptime(Date.now() - app.koor.startedAt), version: app.koor.version }));
}
