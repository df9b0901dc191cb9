import type { FastifyInstance } from 'fastify';
import { TEMPLATE_ACTIONS, applyTemplate, createTemplate, deleteTemplate, getTemplate, listTemplates } from './templates.js';
import { applyBody, appliedSchema, createBody, listQuery, summarySchema, templateId, templateSchema } from './schemas.js';
import { KoorErrorRef, Type, typedRoutes } from '../kernel/schema.js';

const idParams = Type.Object({ id: templateId });
const errors = { 400: KoorErrorRef, 404: KoorErrorRef };

/** HTTP routes of the templates domain. */
export default async function templatesRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;
  const api = typedRoutes(app);

  api.post('/api/templates', {
    config: { permission: 'admin', act: 'create templates', auditAction: TEMPLATE_ACTIONS.create },
    schema: {
      tags: ['templates'],
      summary: 'Create a template of rules, contracts or both (a bundle)',
      body: createBody,
      response: { 200: templateSchema, 400: errors[400], 409: KoorErrorRef },
    },
  }, async (request) => createTemplate(ctx, request.body, request.actor));

  api.get('/api/templates', {
    config: { permission: 'read' },
    schema: {
      tags: ['templates'],
      summary: 'Templates without their data; filter by kind and tag',
      querystring: listQuery,
      response: { 200: Type.Array(summarySchema) },
    },
  }, async (request) => listTemplates(ctx, { kind: request.query.kind, tag: request.query.tag || undefined }));

  api.get('/api/templates/:id', {
    config: { permission: 'read' },
    schema: {
      tags: ['templates'],
      summary: 'One template with its data',
      params: idParams,
      response: { 200: templateSchema, 404: errors[404] },
    },
  }, async (request) => getTemplate(ctx, request.params.id));

  api.delete('/api/templates/:id', {
    config: { permission: 'admin', act: 'delete templates', auditAction: TEMPLATE_ACTIONS.delete },
    schema: {
      tags: ['templates'],
      summary: 'Delete a template',
      params: idParams,
      response: { 200: Type.Partial(Type.Object({ deleted: Type.String() })), 404: errors[404] },
    },
  }, async (request) => deleteTemplate(ctx, request.params.id, request.actor));

  api.post('/api/templates/:id/apply', {
    config: { permission: 'admin', act: 'apply templates', auditAction: TEMPLATE_ACTIONS.apply },
    schema: {
      tags: ['templates'],
      summary: "Apply a template to a project: rules are imported, contracts stored as specs",
      params: idParams,
      body: applyBody,
      response: { 200: appliedSchema, ...errors },
    },
  }, async (request) => applyTemplate(ctx, request.params.id, request.body.project, request.actor));
}
