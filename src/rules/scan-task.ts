// The rule scan as a worker-pool task (src/kernel/work-pool.ts): plain data in, plain data out.
import { scanContent, type ScanResult } from './scan.js';
import type { Rule } from './rules.js';

export function scan(input: { rules: Rule[]; content: string }): ScanResult {
  return scanContent(input.rules, input.content);
}
