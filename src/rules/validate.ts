import type { AppContext } from '../kernel/context.js';
import { matchesAnyGlob } from './glob.js';
import { listRules } from './rules.js';
import { scanContent, type ScanResult } from './scan.js';
import type { Rule } from './rules.js';
import { patternWeight } from './patterns.js';

export { patternWeight };

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
  if (scanIsCheap(rules, input.content)) return scanContent(rules, input.content);
  return ctx.work.run<ScanResult>(SCAN_TASK, 'scan', { rules, content: input.content }, 'rule scan');
}

const SCAN_TASK = new URL('./scan-task.js', import.meta.url);

/**
 * Largest scan that runs on the event loop: content characters × pattern weight summed over the
 * rules. RE2 is linear in the content, and its cost per character grows with the compiled
 * pattern, which counted repetitions multiply: `(?:[a-z][a-z]?){1000}Q` is 22 characters but
 * thousands of instructions, and took 8-15 µs a byte (one call over 256 KB: 2-4 s). The weight
 * of a pattern is therefore its length times its repetition counts.
 *
 * Measured on a busy 2-core machine: 20 ordinary rules over 10 KB (5 M units) scan in 1.0 ms
 * inline and 2.8 ms through a worker process (the hop and the copy), so such calls stay
 * inline; at the limit an ordinary scan takes about 4 ms and the costliest pattern about 15 ms.
 * Anything bigger runs in the worker pool, where it cannot hold other requests up and the work
 * budget can end it.
 */
const INLINE_SCAN_LIMIT = 20_000_000;
const INLINE_SCAN_CHARS = 64 * 1024;

function scanIsCheap(rules: Rule[], content: string): boolean {
  if (content.length > INLINE_SCAN_CHARS) return false;
  let weight = 0;
  for (const rule of rules) weight += patternWeight(rule.pattern);
  return weight * content.length <= INLINE_SCAN_LIMIT;
}
