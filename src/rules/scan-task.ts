// The rule scan as a worker-pool task (src/kernel/work-pool.ts): plain data in, plain data out.
import { scanContent, type ScanResult } from './scan.js';
import { patternError } from './patterns.js';
import type { Rule } from './rules.js';

export function scan(input: { rules: Rule[]; content: string }): ScanResult {
  return scanContent(input.rules, input.content);
}

/** RE2's reason for each pattern that does not compile (null for those that do). */
export function patternProblems(input: { patterns: string[] }): (string | null)[] {
  return input.patterns.map((pattern) => patternError(pattern));
}
