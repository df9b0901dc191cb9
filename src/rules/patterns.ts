import RE2 from 're2';

// User patterns are RE2 (the syntax Go Koor rule files use) and run on RE2, whose matching
// time is linear in the input: no pattern and no content can stall the server.

const cache = new Map<string, RE2>();
const CACHE_LIMIT = 5000;

/** Compiles `pattern` for scanning (global + multiline); throws SyntaxError with RE2's reason. */
export function compilePattern(pattern: string): RE2 {
  let re = cache.get(pattern);
  if (!re) {
    re = new RE2(pattern, 'gm');
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

/**
 * Patterns a worker has compiled already (see `checkPatternsOffLoop` in rules.ts): a big rule
 * set is compiled there, and `patternError` then need not compile them again here.
 */
const knownGood = new Set<string>();
const KNOWN_GOOD_LIMIT = 50_000;

export function markPatternsGood(patterns: Iterable<string>): void {
  for (const pattern of patterns) {
    if (knownGood.size >= KNOWN_GOOD_LIMIT) knownGood.clear();
    knownGood.add(pattern);
  }
}

/** Null when `pattern` compiles, otherwise RE2's reason. */
export function patternError(pattern: string): string | null {
  if (knownGood.has(pattern)) return null;
  try {
    // Compiled without flags first so RE2's message quotes the pattern as the user wrote it.
    new RE2(pattern);
    compilePattern(pattern);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Patterns that only mean the same thing on a single line (`\A`, `\z`, or turning multiline
 * off) are matched line by line instead of chunk by chunk.
 */
export function needsLineByLine(pattern: string): boolean {
  return /\\[Az]|\(\?[a-zA-Z]*-[a-zA-Z]*m/.test(pattern);
}

/** A built-in check a `custom` rule may name: a pattern plus lines it must not flag. */
export interface CustomCheck {
  pattern: string;
  /** Lines that match the pattern but must not be flagged (e.g. commented-out code). */
  ignoreLine?: (line: string) => boolean;
}

const isCommentLine = (line: string) => /^\s*(\/\/|\/\*|\*|#)/.test(line);

export const CUSTOM_CHECKS: Record<string, CustomCheck> = {
  'no-console-log': { pattern: String.raw`\bconsole\.log\s*\(`, ignoreLine: isCommentLine },
  'no-debugger': { pattern: String.raw`\bdebugger\b`, ignoreLine: isCommentLine },
  'no-todo': { pattern: String.raw`\b(TODO|FIXME)\b` },
  'no-trailing-whitespace': { pattern: String.raw`[ \t]+$` },
};

/**
 * A pattern's length times every `{n}`/`{n,m}` count in it (nested counts multiply, so this is
 * an upper bound): roughly how big RE2's compiled program is, which is what compiling it and
 * running it over each byte cost. `(?:[a-z][a-z]?){1000}Q` is 22 characters but weighs 22 000:
 * it compiles in about 1 ms (an ordinary pattern: 10 µs) and scans at 8-15 µs a byte.
 */
export function patternWeight(pattern: string): number {
  let weight = pattern.length;
  for (const match of pattern.matchAll(/\{(\d+)(?:,(\d*))?\}/g)) {
    weight *= Math.max(1, Number(match[2] || match[1]));
    if (weight > Number.MAX_SAFE_INTEGER / 1e6) return weight;
  }
  return weight;
}
