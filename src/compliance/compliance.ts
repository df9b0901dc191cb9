import type { Actor, AppContext } from '../kernel/context.js';
import { HttpError } from '../kernel/errors.js';
import type { OutboundPolicy } from '../outbound/policy.js';
import { listInstances, type Instance } from '../instances/instances.js';
import { listProjectContracts } from '../contracts/contracts.js';
import { parseEndpointKey } from '../contracts/document.js';
import { hasPathParams, testLiveEndpoint } from '../contracts/live-test.js';
import type { Contract } from '../contracts/payload.js';
import type { ComplianceRunRow } from './tables.js';
import type { WorkPool } from '../kernel/work-pool.js';
import './tables.js';

// ComplianceViolation and ComplianceRun are the static types of the route schemas (schemas.ts).
import type { ComplianceRun, ComplianceViolation } from './schemas.js';
export type { ComplianceRun, ComplianceViolation };

/** How many instances are checked at once (each may wait up to 10 s per live call). */
const PARALLEL_INSTANCES = 4;

/** The project an instance works on: its workspace name (the last segment if it is a path). */
export function projectOfInstance(instance: Instance): string {
  const workspace = instance.workspace.replace(/[\\/]+$/, '');
  return workspace.slice(Math.max(workspace.lastIndexOf('/'), workspace.lastIndexOf('\\')) + 1);
}

/**
 * Checks one instance against one contract. With a registered base_url, every GET endpoint
 * without path parameters is called and its answer checked against the contract.
 */
async function checkInstanceContract(policy: OutboundPolicy, instance: Instance, contract: Contract, work: WorkPool): Promise<ComplianceViolation[]> {
  if (!instance.base_url) return [];
  const violations: ComplianceViolation[] = [];
  for (const [key, spec] of Object.entries(contract.endpoints)) {
    const parsed = parseEndpointKey(key);
    if (!parsed || parsed.method !== 'GET' || hasPathParams(parsed.path)) continue;
    let result;
    try {
      result = await testLiveEndpoint(policy, key, spec, instance.base_url, {}, work);
    } catch (err) {
      // A base URL the outbound policy refuses, or an answer too costly to check within the
      // work budget, is this check's finding, not the run's end.
      if (err instanceof HttpError) {
        violations.push({ endpoint: key, path: '$', message: err.message });
        continue;
      }
      throw err;
    }
    if (result.error) violations.push({ endpoint: key, path: '$', message: result.error });
    for (const v of result.response_violations) violations.push({ endpoint: key, ...v });
  }
  return violations;
}

type PendingRun = Omit<ComplianceRun, 'id'>;

async function checkInstance(policy: OutboundPolicy, instance: Instance, contractsOf: (project: string) => Promise<Awaited<ReturnType<typeof listProjectContracts>>>, work: WorkPool): Promise<PendingRun[]> {
  const project = projectOfInstance(instance);
  if (!project) return [];
  const runs: PendingRun[] = [];
  for (const entry of await contractsOf(project)) {
    const violations: ComplianceViolation[] = entry.contract
      ? await checkInstanceContract(policy, instance, entry.contract, work)
      : [{ endpoint: '', path: '$', message: entry.problem ?? 'not a valid contract' }];
    runs.push({ instance_id: instance.id, project, contract: entry.name, pass: violations.length === 0, violations, run_at: new Date().toISOString() });
  }
  return runs;
}

async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return out;
}

function fromRow(row: Omit<ComplianceRunRow, 'id'> & { id: number }): ComplianceRun {
  let violations: ComplianceViolation[] = [];
  try {
    violations = JSON.parse(row.violations) as ComplianceViolation[];
  } catch {
    // Unreadable details still leave the pass/fail verdict.
  }
  return { id: Number(row.id), instance_id: row.instance_id, project: row.project, contract: row.contract, pass: row.pass === 1, violations, run_at: row.run_at };
}

/** The audit action of the compliance domain, named once. */
export const COMPLIANCE_ACTIONS = { run: 'compliance.run' } as const;

/**
 * Checks every active instance against the contracts of its project, stores every check and
 * publishes `compliance.violation` for each failure. `actor` is set for on-demand runs, which
 * are audited; scheduled runs are not.
 */
export async function runComplianceChecks(ctx: AppContext, actor?: Actor): Promise<ComplianceRun[]> {
  const instances = await listInstances(ctx, { status: 'active' });
  const byProject = new Map<string, ReturnType<typeof listProjectContracts>>();
  const contractsOf = (project: string) => {
    let contracts = byProject.get(project);
    if (!contracts) byProject.set(project, (contracts = listProjectContracts(ctx, project).catch(() => [])));
    return contracts;
  };
  const pending = (await inBatches(instances, PARALLEL_INSTANCES, (instance) => checkInstance(ctx.outbound, instance, contractsOf, ctx.work))).flat();

  return ctx.commit(async (trx) => {
    const stored: ComplianceRun[] = [];
    for (const run of pending) {
      const row = await trx
        .insertInto('compliance_runs')
        .values({ ...run, pass: run.pass ? 1 : 0, violations: JSON.stringify(run.violations) })
        .returning('id')
        .executeTakeFirstOrThrow();
      stored.push({ id: Number(row.id), ...run });
    }
    const failed = stored.filter((r) => !r.pass);
    return {
      value: stored,
      audit: actor ? { actor: actor.id, action: COMPLIANCE_ACTIONS.run, resource: 'compliance', detail: `${stored.length} checks, ${failed.length} failed` } : undefined,
      events: failed.map((run) => ({
        topic: 'compliance.violation',
        data: { run_id: run.id, instance_id: run.instance_id, project: run.project, contract: run.contract, violations: run.violations },
        source: 'compliance',
      })),
    };
  });
}

/** Stored checks, newest first, optionally of one instance. */
export async function complianceHistory(ctx: AppContext, filter: { instance_id?: string; limit?: number } = {}): Promise<ComplianceRun[]> {
  let query = ctx.db.query.selectFrom('compliance_runs').selectAll();
  if (filter.instance_id) query = query.where('instance_id', '=', filter.instance_id);
  const rows = await query.orderBy('id', 'desc').limit(filter.limit ?? 50).execute();
  return rows.map(fromRow);
}
