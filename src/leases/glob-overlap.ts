// Whether two path globs can match the same path, decided without listing any file.
//
// Each glob becomes a small automaton (states joined by edges that each accept a set of
// characters); two globs overlap when some string drives both automata to acceptance at once,
// which is a walk over pairs of states. Edges carry character *sets*, so the search never
// enumerates an alphabet: two edges can be taken together when their sets share a character.
//
// The glob language (the same as the lease docs describe): `*` any run of characters but `/`,
// `?` one character but `/`, `[abc]` `[a-z]` `[!x]` `[^x]` one character of a class (never
// `/`), and a whole segment `**` any number of segments, none included. Braces are expanded
// by the caller (see resources.ts) before a glob gets here.

/** A set of characters: the union of `ranges` (code points, inclusive), or its complement when `negated`. */
export interface CharSet {
  negated: boolean;
  ranges: ReadonlyArray<readonly [number, number]>;
}

const SLASH = 0x2f;
const MAX_CODE_POINT = 0x10ffff;

const ANY: CharSet = { negated: true, ranges: [] };
const NOT_SLASH: CharSet = { negated: true, ranges: [[SLASH, SLASH]] };
const literal = (code: number): CharSet => ({ negated: false, ranges: [[code, code]] });

interface Edge {
  chars: CharSet;
  to: number;
}

/** A glob as an automaton: state 0 starts, `accept` ends; `empty[s]` lists states reachable from s without reading. */
export interface GlobAutomaton {
  edges: Edge[][];
  /** For each state, itself plus every state its empty moves reach. */
  closure: number[][];
  accept: number;
  /** Characters every match starts with / ends with: cheap early answers to "disjoint?". */
  prefix: string;
  suffix: string;
  /** The longest run of literal characters inside one segment: every match contains it. */
  needle: string;
}

/** Sorts and merges ranges so that coverage questions are one pass. */
function merged(ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** Whether [lo, hi] is entirely inside the (merged) ranges. */
function covered(lo: number, hi: number, ranges: Array<[number, number]>): boolean {
  let next = lo;
  for (const [a, b] of ranges) {
    if (a > next) return false;
    if (b >= next) next = b + 1;
    if (next > hi) return true;
  }
  return next > hi;
}

/** Whether some character belongs to both sets. */
export function charSetsMeet(a: CharSet, b: CharSet): boolean {
  if (!a.negated && !b.negated) {
    return a.ranges.some(([alo, ahi]) => b.ranges.some(([blo, bhi]) => alo <= bhi && blo <= ahi));
  }
  if (a.negated && b.negated) return !covered(0, MAX_CODE_POINT, merged([...a.ranges, ...b.ranges]));
  const [positive, negative] = a.negated ? [b, a] : [a, b];
  const excluded = merged(negative.ranges);
  return positive.ranges.some(([lo, hi]) => !covered(lo, hi, excluded));
}

/** Reads a `[...]` class starting at `glob[start] === '['`; null when it never closes (then `[` is literal). */
function readClass(chars: string[], start: number): { set: CharSet; end: number } | null {
  let i = start + 1;
  let negated = false;
  if (chars[i] === '!' || chars[i] === '^') {
    negated = true;
    i++;
  }
  const ranges: Array<[number, number]> = [];
  // A `]` right after the opening (or its negation) is a member, as in every shell.
  let first = true;
  for (; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === ']' && !first) {
      // Classes never match `/`: a negated one excludes it, a positive one loses it.
      if (negated) return { set: { negated: true, ranges: [...ranges, [SLASH, SLASH]] }, end: i };
      const withoutSlash = ranges.flatMap(([lo, hi]): Array<[number, number]> => {
        if (hi < SLASH || lo > SLASH) return [[lo, hi]];
        const parts: Array<[number, number]> = [];
        if (lo < SLASH) parts.push([lo, SLASH - 1]);
        if (hi > SLASH) parts.push([SLASH + 1, hi]);
        return parts;
      });
      return { set: { negated: false, ranges: withoutSlash }, end: i };
    }
    first = false;
    const lo = ch.codePointAt(0)!;
    if (chars[i + 1] === '-' && chars[i + 2] !== undefined && chars[i + 2] !== ']') {
      const hi = chars[i + 2]!.codePointAt(0)!;
      ranges.push(lo <= hi ? [lo, hi] : [hi, lo]);
      i += 2;
    } else {
      ranges.push([lo, lo]);
    }
  }
  return null;
}

/** Splits a glob into its segments at each `/` outside a `[…]` class. */
export function splitSegments(glob: string): string[] {
  const chars = [...glob];
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '/') {
      segments.push(current);
      current = '';
      continue;
    }
    const cls = ch === '[' ? readClass(chars, i) : null;
    if (cls) {
      current += chars.slice(i, cls.end + 1).join('');
      i = cls.end;
    } else {
      current += ch;
    }
  }
  segments.push(current);
  return segments;
}

/** Whether the glob has any wildcard (`*`, `?`, or a class that closes). */
export function hasWildcard(glob: string): boolean {
  const chars = [...glob];
  return chars.some((ch, i) => ch === '*' || ch === '?' || (ch === '[' && readClass(chars, i) !== null));
}

class Builder {
  readonly edges: Edge[][] = [[]];
  readonly empty: number[][] = [[]];

  state(): number {
    this.edges.push([]);
    this.empty.push([]);
    return this.edges.length - 1;
  }

  edge(from: number, chars: CharSet, to: number): void {
    this.edges[from]!.push({ chars, to });
  }

  /** Reads one ordinary segment (no `**`) from `from`; returns the state after it. */
  segment(from: number, text: string): number {
    const chars = [...text];
    let at = from;
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i]!;
      if (ch === '*') {
        // Any run but `/`: a loop on the current state.
        this.edge(at, NOT_SLASH, at);
        while (chars[i + 1] === '*') i++;
        continue;
      }
      let set: CharSet;
      if (ch === '?') set = NOT_SLASH;
      else if (ch === '[' && readClass(chars, i)) {
        const cls = readClass(chars, i)!;
        set = cls.set;
        i = cls.end;
      } else set = literal(ch.codePointAt(0)!);
      const next = this.state();
      this.edge(at, set, next);
      at = next;
    }
    return at;
  }

  /** `**` followed by more segments: nothing, or anything that ends with `/`. */
  anyDirectories(from: number): number {
    const inside = this.state();
    const after = this.state();
    this.empty[from]!.push(after, inside);
    this.edge(inside, ANY, inside);
    this.edge(inside, literal(SLASH), after);
    return after;
  }

  closures(): number[][] {
    return this.empty.map((_, start) => {
      const seen = new Set([start]);
      const stack = [start];
      while (stack.length > 0) {
        for (const next of this.empty[stack.pop()!]!) {
          if (!seen.has(next)) {
            seen.add(next);
            stack.push(next);
          }
        }
      }
      return [...seen];
    });
  }
}

/** The characters before the first wildcard (reading stops at `*`, `?`, `[`). */
function literalPrefix(glob: string): string {
  const stop = glob.search(/[*?[]/);
  return stop < 0 ? glob : glob.slice(0, stop);
}

function literalSuffix(glob: string): string {
  const chars = [...glob];
  let start = chars.length;
  while (start > 0 && !'*?]'.includes(chars[start - 1]!)) start--;
  return chars.slice(start).join('');
}

/**
 * The longest run of literal characters within one segment (a whole `**` segment has none).
 * Runs never cross a `/`: after a `**` segment the separator may be the one before it.
 */
function longestLiteral(segments: string[]): string {
  let longest = '';
  for (const segment of segments) {
    if (segment === '**') continue;
    const chars = [...segment];
    let run = '';
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i]!;
      const cls = ch === '[' ? readClass(chars, i) : null;
      if (ch === '*' || ch === '?' || cls) {
        if (cls) i = cls.end;
        run = '';
        continue;
      }
      run += ch;
      if (run.length > longest.length) longest = run;
    }
  }
  return longest;
}

/**
 * Compiles one brace-free glob. A plain path compiles too: it matches only itself.
 * Segments are separated by `/`; a whole `**` segment spans any number of segments.
 */
export function compileGlob(glob: string): GlobAutomaton {
  const builder = new Builder();
  const segments = splitSegments(glob);
  let at = 0;
  let afterAnyDirectories = false;
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (segment === '**') {
      if (last) {
        // A final `**`: everything below (or, alone, every path).
        if (i > 0 && !afterAnyDirectories) {
          const next = builder.state();
          builder.edge(at, literal(SLASH), next);
          at = next;
        }
        builder.edge(at, ANY, at);
      } else {
        if (i > 0 && !afterAnyDirectories) {
          const next = builder.state();
          builder.edge(at, literal(SLASH), next);
          at = next;
        }
        at = builder.anyDirectories(at);
        afterAnyDirectories = true;
      }
      continue;
    }
    if (i > 0 && !afterAnyDirectories) {
      const next = builder.state();
      builder.edge(at, literal(SLASH), next);
      at = next;
    }
    afterAnyDirectories = false;
    at = builder.segment(at, segment);
  }
  // Every match starts with the glob's text before its first wildcard, and its last segment
  // (after any `**/`) ends with the literal end of the glob's last segment.
  const prefix = segments[0] === '**' ? '' : literalPrefix(glob);
  const lastSegment = segments[segments.length - 1]!;
  const suffix = lastSegment === '**' ? '' : literalSuffix(lastSegment);
  return { edges: builder.edges, closure: builder.closures(), accept: at, prefix, suffix, needle: longestLiteral(segments) };
}

/** Largest pair-of-states search one question may take; far above any real pair of globs. */
const MAX_PAIRS = 4_000_000;

/**
 * Whether some string is matched by both automata. Answers at once when their fixed
 * beginnings or endings disagree; otherwise walks the pairs of states both can be in.
 */
export function automataOverlap(a: GlobAutomaton, b: GlobAutomaton): boolean {
  const n = Math.min(a.prefix.length, b.prefix.length);
  if (a.prefix.slice(0, n) !== b.prefix.slice(0, n)) return false;
  const m = Math.min(a.suffix.length, b.suffix.length);
  if (m > 0 && a.suffix.slice(-m) !== b.suffix.slice(-m)) return false;

  const width = b.edges.length;
  const pairs = a.edges.length * width;
  if (pairs > MAX_PAIRS) throw new RangeError('globs too large to compare');
  // Pairs already reached carry this search's stamp (no buffer allocated per question).
  if (marks.length < pairs) marks = new Uint32Array(Math.max(pairs, marks.length * 2));
  const stamp = nextStamp();
  const stack: number[] = [];
  const visit = (sa: number, sb: number) => {
    for (const x of a.closure[sa]!) {
      for (const y of b.closure[sb]!) {
        const key = x * width + y;
        if (marks[key] === stamp) continue;
        marks[key] = stamp;
        stack.push(x, y);
      }
    }
  };
  visit(0, 0);
  while (stack.length > 0) {
    const y = stack.pop()!;
    const x = stack.pop()!;
    if (x === a.accept && y === b.accept) return true;
    for (const ea of a.edges[x]!) {
      for (const eb of b.edges[y]!) {
        if (charSetsMeet(ea.chars, eb.chars)) visit(ea.to, eb.to);
      }
    }
  }
  return false;
}

function inSet(set: CharSet, code: number): boolean {
  let found = false;
  for (const [lo, hi] of set.ranges) {
    if (code >= lo && code <= hi) {
      found = true;
      break;
    }
  }
  return found !== set.negated;
}

/**
 * Whether the automaton matches `text` (a plain path): the common case of a lease check, run
 * as a walk over the text keeping the set of states the automaton can be in, which is much
 * cheaper than the pairwise search two globs need.
 */
export function automatonMatches(a: GlobAutomaton, text: string): boolean {
  if (!text.startsWith(a.prefix) || !text.endsWith(a.suffix) || !text.includes(a.needle)) return false;
  // The states reached so far, without allocating per character: a state is in the next set
  // when its mark equals this step's stamp.
  if (marks.length < a.edges.length) marks = new Uint32Array(a.edges.length * 2);
  let current = [...a.closure[0]!];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    const stamp = nextStamp();
    const next: number[] = [];
    for (const state of current) {
      for (const edge of a.edges[state]!) {
        if (!inSet(edge.chars, code)) continue;
        for (const reached of a.closure[edge.to]!) {
          if (marks[reached] === stamp) continue;
          marks[reached] = stamp;
          next.push(reached);
        }
      }
    }
    if (next.length === 0) return false;
    current = next;
  }
  return current.includes(a.accept);
}

/**
 * Scratch marks of the searches above, reused from call to call: an entry counts as marked
 * only when it holds the current stamp, so nothing needs clearing. (Searches never interleave:
 * each runs to its end synchronously.)
 */
let marks = new Uint32Array(4096);
let stamp = 0;

function nextStamp(): number {
  stamp = (stamp + 1) >>> 0;
  if (stamp === 0) {
    marks.fill(0);
    stamp = 1;
  }
  return stamp;
}

/** Whether two brace-free globs (or plain paths) can match a common path. */
export function globsOverlap(a: string, b: string): boolean {
  return automataOverlap(compileGlob(a), compileGlob(b));
}
