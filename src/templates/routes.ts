import type { FastifyInstance } from 'fastify';
import { TEMPLATE_ACTIONS, TEMPLATE_KINDS, applyTemplate, createTemplate, deleteTemplate, getTemplate, listTemplates, type TemplateInput } from './templates.js';

const summaryProperties = {
  id: { type: 'string' },
  name: { type: 'string' },
  description: { type: 'string' },
  kind: { type: 'string' },
  tags: { type: 'array', items: { type: 'string' } },
  version: { type: 'integer', description: 'Always 1: templates never change once created' },
  created_at: { type: 'string' },
  updated_at: { type: 'string', description: 'The same as created_at' },
} as const;

const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 200 } }, required: ['id'] } as const;
const errors = { 400: { $ref: 'KoorError#' }, 404: { $ref: 'KoorError#' } };

/** HTTP routes of the templates domain. */
export default async function templatesRoutes(app: FastifyInstance): Promise<void> {
  const ctx = app.koor;

  app.post<{ Body: TemplateInput }>('/api/templates', {
    config: { permission: 'admin', act: 'create templates', auditAction: TEMPLATE_ACTIONS.create },
    schema: {
      tags: ['templates'],
      summary: 'Create a template of rules, contracts or both (a bundle)',
      body: {
        type: 'object',
        required: ['id', 'name', 'data'],
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 200 },
          name: { type: 'string', minLength: 1, maxLength: 200 },
          description: { type: 'string' },
          kind: { type: 'string', enum: [...TEMPLATE_KINDS], description: 'rules when absent' },
          data: { description: 'rules: an array of rules; contracts: {spec name: contract} or one contract; bundle: {rules?, contracts?}' },
          tags: { type: 'array', items: { type: 'string', minLength: 1 } },
        },
      },
      response: { 200: { type: 'object', properties: { ...summaryProperties, data: {} } }, 400: errors[400], 409: { $ref: 'KoorError#' } },
    },
  }, async (request) => createTemplate(ctx, request.body, request.actor));

  app.get<{ Querystring: { kind?: string; tag?: string } }>('/api/templates', {
    config: { permission: 'read' },
    schema: {
      tags: ['templates'],
      summary: 'Templates without their data; filter by kind and tag',
      querystring: { type: 'object', properties: { kind: { type: 'string', enum: [...TEMPLATE_KINDS] }, tag: { type: 'string' } } },
      response: { 200: { type: 'array', items: { type: 'object', properties: summaryProperties } } },
    },
  }, async (request) => listTemplates(ctx, { kind: request.query.kind, tag: request.query.tag || undefined }));

  app.get<{ Params: { id: string } }>('/api/templates/:id', {
    config: { permission: 'read' },
    schema: {
      tags: ['templates'],
      summary: 'One template with its data',
      params: idParams,
      response: { 200: { type: 'object', properties: { ...summaryProperties, data: {} } }, 404: errors[404] },
    },
  }, async (request) => getTemplate(ctx, request.params.id));

  app.delete<{ Params: { id: string } }>('/api/templates/:id', {
    config: { permission: 'admin', act: 'delete templates', auditAction: TEMPLATE_ACTIONS.delete },
    schema: {
      tags: ['templates'],
      summary: 'Delete a template',
      params: idParams,
      response: { 200: { type: 'object', properties: { deleted: { type: 'string' } } }, 404: errors[404] },
    },
  }, async (request) => deleteTemplate(ctx, request.params.id, request.actor));

  app.post<{ Params: { id: string }; Body: { project: string } }>('/api/templates/:id/apply', {
    config: { permission: 'admin', act: 'apply templates', auditAction: TEMPLATE_ACTIONS.apply },
    schema: {
      tags: ['templates'],
      summary: "Apply a template to a project: rules are imported, contracts stored as specs",
      params: idParams,
      body: { type: 'object', required: ['project'], properties: { project: { type: 'string', minLength: 1, maxLength: 256 } } },
      response: {
        200: {
          type: 'object',
          properties: {
            applied: { type: 'string' },
            project: { type: 'string' },
            kind: { type: 'string' },
            rules: { type: 'integer' },
            contracts: { type: 'integer' },
          },
        },
        ...errors,
      },
    },
  }, async (request) => applyTemplate(ctx, request.params.id, request.body.project, request.actor));
}
