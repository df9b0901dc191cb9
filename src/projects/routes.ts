import type { FastifyInstance } from 'fastify';
import { Type, typedRoutes, type Static } from '../kernel/schema.js';
import { ruleCountsByProject } from '../rules/rules.js';
import { ruleCountsSchema } from '../rules/schemas.js';
import { specCountsByProject } from '../specs/specs.js';

export const projectSummarySchema = Type.Object({
  name: Type.String(),
  specs: Type.Integer(),
  rules: ruleCountsSchema,
});
export type ProjectSummary = Static<typeof projectSummarySchema>;

/**
 * `GET /api/projects`: every project something is stored under (its specs and contracts, its
 * rules, `_global` included), with how much of each, so a client (the dashboard's project
 * picker, an agent) can find a project's proposed rules without knowing its name first.
 */
export async function listProjects(app: FastifyInstance): Promise<ProjectSummary[]> {
  const [specs, rules] = await Promise.all([specCountsByProject(app.koor), ruleCountsByProject(app.koor)]);
  const names = [...new Set([...specs.keys(), ...rules.keys()])].sort();
  return names.map((name) => ({ name, specs: specs.get(name) ?? 0, rules: rules.get(name) ?? { accepted: 0, proposed: 0, rejected: 0 } }));
}

export default async function projectsRoutes(app: FastifyInstance): Promise<void> {
  typedRoutes(app).get('/api/projects', {
    config: { permission: 'read' },
    schema: {
      tags: ['projects'],
      summary: 'Projects that have specs or rules, with their counts (rules by status)',
      response: { 200: Type.Array(projectSummarySchema) },
    },
  }, async () => listProjects(app));
}
