import type { AppContext } from '../kernel/context.js';
import { matchesAnyGlob } from './glob.js';
import { listRules } from './rules.js';
import { scanContent, type ScanResult } from './scan.js';

import type { ValidateInput } from './schemas.js';
export type { ValidateInput };

/**
 * Checks `content` against the accepted rules of `project` and `_global`. With a filename,
 * only rules whose `applies_to` globs match it run; with a stack, only universal rules and
 * rules of that stack.
 */
export async function validateContent(ctx: AppContext, project: string, input: ValidateInput): Promise<ScanResult> {
  const rules = (await listRules(ctx, project, { status: 'accepted', stack: input.stack })).filter(
    (rule) => !input.filename || matchesAnyGlob(input.filename, rule.applies_to),
  );
  if (rules.length === 0) return { violations: [], truncated: false };
  return scanContent(rules, input.content);
}
