import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { exportLines } from './export.js';
import { BACKUP_ACTIONS, importStream } from './import.js';
import { KoorErrorRef, typedRoutes } from '../kernel/schema.js';
import { exportQuery, importQuery, importResultSchema } from './schemas.js';

/**
 * Export and import of the whole database as JSON lines: backups, and the way to move a server
 * from SQLite to PostgreSQL (export from one, import into the other).
 */
export default async function backupRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const api = typedRoutes(app);

  // An import can be far larger than the JSON body limit and is read line by line as it
  // arrives, so in this plugin's scope every body is handed over as the raw stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  api.get('/api/export', {
    config: { permission: 'admin', act: 'export the database' },
    schema: {
      summary: 'Export every table as JSON lines (header, one line per row, end line)',
      description: 'Token hashes and webhook secrets are left out unless the admin asks with ?include_secrets=1.',
      tags: ['backup'],
      produces: ['application/x-ndjson'],
      querystring: exportQuery,
    },
  }, async (request, reply) => {
    const includeSecrets = request.query.include_secrets === '1' || request.query.include_secrets === 'true';
    // Only the admin gets here at all (the route's permission), so secrets go only to the admin.
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    reply
      .type('application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="koor-export-${stamp}.jsonl"`);
    return Readable.from(exportLines(ctx, { includeSecrets }));
  });

  api.post('/api/import', {
    config: { permission: 'admin', act: 'import into the database', auditAction: BACKUP_ACTIONS.import },
    schema: {
      summary: 'Import an export stream (into an empty server, or merging with ?merge=1)',
      tags: ['backup'],
      // Not text/plain: a web page may POST that cross-site without asking (README "Browser safety").
      consumes: ['application/x-ndjson', 'application/jsonl', 'application/json'],
      querystring: importQuery,
      response: {
        200: importResultSchema,
        400: KoorErrorRef,
        409: KoorErrorRef,
        413: KoorErrorRef,
      },
    },
  }, async (request) => {
    const body = request.body instanceof Readable ? request.body : Readable.from([]);
    const declared = Number(request.headers['content-length']);
    return importStream(ctx, body, {
      merge: request.query.merge === '1' || request.query.merge === 'true',
      actor: request.actor,
      declaredBytes: Number.isFinite(declared) ? declared : undefined,
    });
  });
}
