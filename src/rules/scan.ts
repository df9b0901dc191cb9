import type RE2 from 're2';
import { CUSTOM_CHECKS, compilePattern, needsLineByLine } from './patterns.js';
import type { Rule } from './rules.js';

import type { Violation } from './schemas.js';
export type { Violation };

// Content is scanned in chunks of whole lines: each chunk is turned into UTF-8 once and every
// rule runs over it in a single RE2 pass (one native call per match, not per line).
const CHUNK_CHARS = 256 * 1024;
/**
 * Most violations one scan reports. A hostile or unlucky rule (`a` over 3 million lines) would
 * otherwise build an answer of hundreds of megabytes; past the limit the report says it is cut.
 */
export const MAX_VIOLATIONS = 1000;
/** A match longer than this is cut in the report (a `.*` on a huge line would echo it all). */
const MATCH_REPORT_LIMIT = 200;
const NEWLINE = 0x0a;

interface LineMatcher {
  rule: Rule;
  re: RE2;
  lineByLine: boolean;
  ignoreLine?: (line: string) => boolean;
  /** Set once this rule has MAX_VIOLATIONS violations: it stops scanning. */
  full: boolean;
}

export interface ScanResult {
  violations: Violation[];
  /** True when the list is incomplete: there were more than MAX_VIOLATIONS violations. */
  truncated: boolean;
}

interface MissingMatcher {
  rule: Rule;
  re: RE2;
  found: boolean;
}

function reportText(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('utf8', start, end);
  return text.length > MATCH_REPORT_LIMIT ? `${text.slice(0, MATCH_REPORT_LIMIT)}…` : text;
}

/** Flags every line of the chunk `buf` that `m` matches; lines are numbered from `firstLine`. */
function scanChunk(m: LineMatcher, buf: Buffer, firstLine: number, out: Violation[]): void {
  if (m.lineByLine) {
    scanLines(m, buf, firstLine, out);
    return;
  }
  const { re, rule } = m;
  re.lastIndex = 0;
  let line = firstLine;
  let counted = 0; // byte offset up to which newlines are counted into `line`
  for (;;) {
    const found = re.exec(buf);
    if (!found) break;
    const at = found.index;
    // Advance the line count to the line where this match starts.
    for (let nl = buf.indexOf(NEWLINE, counted); nl !== -1 && nl < at; nl = buf.indexOf(NEWLINE, counted)) {
      line++;
      counted = nl + 1;
    }
    const lineStart = counted;
    let lineEnd = buf.indexOf(NEWLINE, lineStart);
    if (lineEnd === -1) lineEnd = buf.length;
    const matched = found[0] as unknown as Buffer;
    const matchEnd = at + matched.length;
    let flagged = true;
    let matchText = '';
    if (matchEnd > lineEnd || m.ignoreLine) {
      // The chunk-wide match ran past its line (e.g. `\s` ate a newline) or this rule needs the
      // line on its own: decide on the line alone, as a per-line scan would.
      const lineText = buf.toString('utf8', lineStart, lineEnd);
      const single = lineAlone(re).exec(lineText);
      flagged = single !== null && !(m.ignoreLine?.(lineText) ?? false);
      if (single) matchText = single[0].length > MATCH_REPORT_LIMIT ? `${single[0].slice(0, MATCH_REPORT_LIMIT)}…` : single[0];
    } else {
      matchText = reportText(buf, at, matchEnd);
    }
    if (flagged && record(m, out, { rule_id: rule.rule_id, severity: rule.severity, message: rule.message, line, match: matchText })) return;
    if (lineEnd >= buf.length) break;
    re.lastIndex = lineEnd + 1;
  }
}

/** The slow path for patterns that only make sense on a line alone: every line on its own. */
function scanLines(m: LineMatcher, buf: Buffer, firstLine: number, out: Violation[]): void {
  const single = lineAlone(m.re);
  const lines = buf.toString('utf8').split('\n');
  // A chunk ends with its newline: the empty string after it is not a line.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  for (const [i, text] of lines.entries()) {
    const found = single.exec(text);
    if (!found || (m.ignoreLine?.(text) ?? false)) continue;
    const match = found[0].length > MATCH_REPORT_LIMIT ? `${found[0].slice(0, MATCH_REPORT_LIMIT)}…` : found[0];
    if (record(m, out, { rule_id: m.rule.rule_id, severity: m.rule.severity, message: m.rule.message, line: firstLine + i, match })) return;
  }
}

/** Adds a violation; true (and the rule marked full) when one more would pass the limit. */
function record(m: LineMatcher, out: Violation[], violation: Violation): boolean {
  if (out.length >= MAX_VIOLATIONS) {
    m.full = true;
    return true;
  }
  out.push(violation);
  return false;
}

const singleLine = new WeakMap<RE2, RE2>();
/** The same pattern without the global flag, for testing one line on its own. */
function lineAlone(re: RE2): RE2 {
  let single = singleLine.get(re);
  if (!single) {
    single = new (re.constructor as typeof RE2)(re.source, 'm');
    singleLine.set(re, single);
  }
  return single;
}

/**
 * Runs `rules` over `content` and returns their violations in rule order, lines ascending.
 * Every pattern was checked when its rule was stored; one that no longer compiles is skipped.
 *
 * It runs to the end in one go: a scan that may be long runs in the worker pool (see
 * `scanInline` in validate.ts), where the work budget ends it if it must.
 */
export function scanContent(rules: Rule[], content: string): ScanResult {

  const text = content.includes('\r') ? content.replace(/\r\n?/g, '\n') : content;
  const lineMatchers: LineMatcher[] = [];
  const missing: MissingMatcher[] = [];
  for (const rule of rules) {
    const custom = rule.match_type === 'custom' ? CUSTOM_CHECKS[rule.pattern] : undefined;
    const pattern = custom ? custom.pattern : rule.pattern;
    let re: RE2;
    try {
      re = compilePattern(pattern);
    } catch {
      continue;
    }
    if (rule.match_type === 'missing') missing.push({ rule, re, found: false });
    else lineMatchers.push({ rule, re, lineByLine: needsLineByLine(pattern), ignoreLine: custom?.ignoreLine, full: false });
  }

  const perRule = new Map<Rule, Violation[]>(lineMatchers.map((m) => [m.rule, []]));
  let firstLine = 1;
  let chunks = 0;
  for (let start = 0; start < text.length || start === 0; ) {
    let end = Math.min(start + CHUNK_CHARS, text.length);
    if (end < text.length) {
      const nl = text.indexOf('\n', end);
      end = nl === -1 ? text.length : nl + 1;
    }
    const chunk = text.slice(start, end);
    chunks++;
    const buf = Buffer.from(chunk, 'utf8');
    for (const m of lineMatchers) {
      if (m.full) continue;
      scanChunk(m, buf, firstLine, perRule.get(m.rule)!);
    }
    for (const m of missing) {
      if (m.found) continue;
      m.re.lastIndex = 0;
      m.found = m.re.test(buf);
    }
    firstLine += countNewlines(buf);
    start = end;
    if (start >= text.length) break;
  }

  // A pattern a `missing` rule looks for may span two chunks (`BEGIN\nEND` with the chunk
  // ending between the lines). One pass over the whole text settles it, only for a rule that
  // no chunk satisfied, and only when there was more than one chunk.
  if (chunks > 1) {
    const unresolved = missing.filter((m) => !m.found);
    if (unresolved.length > 0) {
      const whole = Buffer.from(text, 'utf8');
      for (const m of unresolved) {
        m.re.lastIndex = 0;
        m.found = m.re.test(whole);
      }
    }
  }

  const missingByRule = new Map(missing.map((m) => [m.rule, m]));
  const out: Violation[] = [];
  for (const rule of rules) {
    const found = perRule.get(rule);
    if (found) for (const v of found) out.push(v);
    const absent = missingByRule.get(rule);
    if (absent && !absent.found) out.push({ rule_id: rule.rule_id, severity: rule.severity, message: rule.message });
  }
  const truncated = out.length > MAX_VIOLATIONS || lineMatchers.some((m) => m.full);
  return { violations: out.slice(0, MAX_VIOLATIONS), truncated };
}

function countNewlines(buf: Buffer): number {
  let count = 0;
  for (let at = buf.indexOf(NEWLINE); at !== -1; at = buf.indexOf(NEWLINE, at + 1)) count++;
  return count;
}
