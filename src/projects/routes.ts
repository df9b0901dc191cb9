import type { FastifyInstance } from 'fastify';
import { ruleCountsByProject } from '../rules/rules.js';
import { specCountsByProject } from '../specs/specs.js';

/**
 * `GET /api/projects`: every project something is stored under (its specs and contracts, its
 * rules, `_global` included), with how much of each, so a client (the dashboard's project
 * picker, an agent) can find a project's proposed rules without knowing its name first.
 */
export interface ProjectSummary {
  name: string;
  specs: number;
  rules: { accepted: number; proposed: number; rejected: number };
}

export async function listProjects(app: FastifyInstance): Promise<ProjectSummary[]> {
  const [specs, rules] = await Promise.all([specCountsByProject(app.koor), ruleCountsByProject(app.koor)]);
  const names = [...new Set([...specs.keys(), ...rules.keys()])].sort();
  return names.map((name) => ({ name, specs: specs.get(name) ?? 0, rules: rules.get(name) ?? { accepted: 0, proposed: 0, rejected: 0 } }));
}

export default async function projectsRoutes(app: FastifyInstance): Promise<void> {
  const count = { type: 'integer' } as const;
  app.get('/api/projects', {
    schema: {
      tags: ['projects'],
      summary: 'Projects that have specs or rules, with their counts (rules by status)',
      response: {
        200: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              specs: count,
              rules: { type: 'object', properties: { accepted: count, proposed: count, rejected: count }, required: ['accepted', 'proposed', 'rejected'] },
            },
            required: ['name', 'specs', 'rules'],
          },
        },
      },
    },
  }, async () => listProjects(app));
}
