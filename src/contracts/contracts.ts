import type { AppContext } from '../kernel/context.js';
import { badRequest, notFound } from '../kernel/errors.js';
import { getSpec, listSpecs } from '../specs/specs.js';
import { contractDocumentOf, parseContract } from './document.js';
import { testLiveEndpoint, type LiveTestResult } from './live-test.js';
import type { Contract, ContractViolation } from './payload.js';
import { MAX_CONTRACT_VIOLATIONS, checkDirection, checkDirectionOffLoop, findEndpoint } from './validate.js';

/** The contract stored as spec `project/name`; 404 when absent, 400 when it is not a contract. */
export async function loadContract(ctx: AppContext, project: string, name: string): Promise<Contract> {
  const spec = await getSpec(ctx, project, name);
  if (!spec) throw notFound('contract', `${project}/${name}`);
  try {
    return parseContract(spec.data);
  } catch (err) {
    throw badRequest(`spec ${project}/${name} is not a contract: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Every spec of `project` whose JSON is a contract, by name; malformed ones come with their problem. */
export async function listProjectContracts(ctx: AppContext, project: string): Promise<{ name: string; contract?: Contract; problem?: string }[]> {
  const out: { name: string; contract?: Contract; problem?: string }[] = [];
  for (const summary of await listSpecs(ctx, project)) {
    const spec = await getSpec(ctx, project, summary.name);
    if (!spec || contractDocumentOf(spec.data) === null) continue;
    try {
      out.push({ name: summary.name, contract: parseContract(spec.data) });
    } catch (err) {
      out.push({ name: summary.name, problem: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}

import type { PayloadCheck } from './schemas.js';
export type { PayloadCheck };

/** Checks a payload against one direction (`request` by default) of an endpoint of a stored contract. */
export async function validateContractPayload(ctx: AppContext, project: string, name: string, input: { endpoint: string; direction?: string; payload: unknown }): Promise<PayloadCheck> {
  const contract = await loadContract(ctx, project, name);
  const { spec } = findEndpoint(contract, input.endpoint);
  const violations = await checkDirectionOffLoop(ctx.work, spec, checkDirection(input.direction ?? 'request'), input.payload);
  if (violations.length <= MAX_CONTRACT_VIOLATIONS) return { valid: violations.length === 0, violations };
  return { valid: false, violations: violations.slice(0, MAX_CONTRACT_VIOLATIONS), truncated: true };
}

/** Calls the live service at `base_url` for one endpoint of a stored contract and checks it. */
export async function testContractEndpoint(ctx: AppContext, project: string, name: string, input: { endpoint: string; base_url: string; test_data?: Record<string, unknown> }): Promise<LiveTestResult> {
  const contract = await loadContract(ctx, project, name);
  const { key, spec } = findEndpoint(contract, input.endpoint);
  return testLiveEndpoint(ctx.outbound, key, spec, input.base_url, input.test_data ?? {}, ctx.work);
}
