// Topic names and topic patterns. Topics are dot-separated segments (`api.change.contract`).
// Patterns are Go Koor's globs (its `path.Match`), so its users' scripts keep working: `*` is
// any run of characters (dots included; only `/` stops it), `?` one character, `[...]` a
// class (`[^...]` negated, `a-z` ranges, `\` escapes), `\x` a literal x. `**` is the same as
// `*` (it meant "one or more segments" in earlier Koor versions, a subset of what `*` matches
// now). An empty pattern matches everything, as in Go. A pattern is compiled once into tokens
// and matched without regular expressions, in time bounded by pattern × topic length.

export const MAX_TOPIC_LENGTH = 256;

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** Why `topic` is not a valid topic name, or null when it is. */
export function topicProblem(topic: string): string | null {
  if (topic === '') return 'topic must not be empty';
  if (topic.length > MAX_TOPIC_LENGTH) return `topic "${topic.slice(0, 40)}…" is longer than ${MAX_TOPIC_LENGTH} characters`;
  for (const segment of topic.split('.')) {
    if (!SEGMENT.test(segment)) {
      return `invalid topic "${topic}": expected dot-separated segments of letters, digits, "_" and "-"`;
    }
  }
  return null;
}

/** What `*` and `?` never match (Go's path separator; valid topics never contain it). */
const SEPARATOR = 0x2f;

/** One step of a compiled pattern. Characters are code points, as Go compares runes. */
type Token =
  | { kind: 'char'; code: number }
  | { kind: 'any' }
  | { kind: 'class'; negated: boolean; ranges: Array<[lo: number, hi: number]> };

/** The tokens between two stars, and whether a star precedes them. */
interface Chunk {
  star: boolean;
  tokens: Token[];
}

/** A compiled topic pattern. */
export class TopicPattern {
  private constructor(
    readonly source: string,
    private readonly chunks: Chunk[],
    /** Set when the pattern has no wildcard: the one topic it matches. */
    readonly exactTopic: string | null,
    /** The literal characters before the first wildcard ('' if it starts with one). */
    readonly literalPrefix: string,
    /** True when the pattern matches every topic a publisher can create. */
    readonly matchesAll: boolean,
    /** Literal characters then one star (`api.*`, the common case): a prefix test does. */
    private readonly prefixOnly: boolean,
  ) {}

  /** Compiles `pattern`, or throws TopicPatternError saying what is wrong with it. */
  static compile(pattern: string): TopicPattern {
    if (pattern.length > MAX_TOPIC_LENGTH) throw new TopicPatternError(`pattern is longer than ${MAX_TOPIC_LENGTH} characters`);
    const chunks = parse(pattern);
    const first = chunks[0];
    const literal: number[] = [];
    if (first && !first.star) {
      for (const token of first.tokens) {
        if (token.kind !== 'char') break;
        literal.push(token.code);
      }
    }
    const allLiteral = !!first && !first.star && literal.length === first.tokens.length;
    const wildcardFree = chunks.length === 1 && allLiteral;
    const prefixOnly = chunks.length === 2 && allLiteral && chunks[1]!.tokens.length === 0;
    const text = String.fromCodePoint(...literal);
    // Only stars: valid topics contain no "/", so every one of them matches.
    const matchesAll = chunks.length === 0 || chunks.every((c) => c.star && c.tokens.length === 0);
    return new TopicPattern(pattern, chunks, wildcardFree ? text : null, text, matchesAll, prefixOnly);
  }

  matches(topic: string): boolean {
    if (this.chunks.length === 0) return true;
    if (this.exactTopic !== null) return topic === this.exactTopic;
    if (this.prefixOnly) return topic.startsWith(this.literalPrefix) && topic.indexOf('/', this.literalPrefix.length) < 0;
    if (this.matchesAll) return !topic.includes('/');
    return matchChunks(this.chunks, topic);
  }
}

export class TopicPatternError extends Error {}

function codePoints(text: string): number[] {
  const codes: number[] = [];
  for (const char of text) codes.push(char.codePointAt(0)!);
  return codes;
}

/** UTF-16 units of the code point at `pos`. */
const widthAt = (text: string, pos: number) => (text.codePointAt(pos)! > 0xffff ? 2 : 1);

function malformed(pattern: string, why: string): TopicPatternError {
  return new TopicPatternError(`invalid pattern "${pattern}": ${why}`);
}

/** Splits a pattern into chunks at its stars, checking its syntax on the way (as Go does). */
function parse(pattern: string): Chunk[] {
  const codes = codePoints(pattern);
  const chunks: Chunk[] = [];
  let current: Chunk | null = null;
  let i = 0;
  // A literal (or escaped) character where a class expects one; `-` and `]` must be escaped there.
  const classChar = (): number => {
    const code = codes[i];
    if (code === undefined) throw malformed(pattern, 'a "[" class is never closed with "]"');
    if (code === 0x2d || code === 0x5d) throw malformed(pattern, `"${String.fromCodePoint(code)}" in a class must be escaped with "\\" or follow a character`);
    if (code === 0x5c) {
      i++;
      const escaped = codes[i];
      if (escaped === undefined) throw malformed(pattern, 'it ends with a lone "\\"');
      i++;
      return escaped;
    }
    i++;
    return code;
  };
  while (i < codes.length) {
    const code = codes[i]!;
    if (code === 0x2a) {
      // Consecutive stars are one star.
      while (codes[i] === 0x2a) i++;
      current = { star: true, tokens: [] };
      chunks.push(current);
      continue;
    }
    if (!current) {
      current = { star: false, tokens: [] };
      chunks.push(current);
    }
    if (code === 0x3f) {
      current.tokens.push({ kind: 'any' });
      i++;
    } else if (code === 0x5c) {
      const escaped = codes[i + 1];
      if (escaped === undefined) throw malformed(pattern, 'it ends with a lone "\\"');
      current.tokens.push({ kind: 'char', code: escaped });
      i += 2;
    } else if (code === 0x5b) {
      i++;
      const negated = codes[i] === 0x5e;
      if (negated) i++;
      const ranges: Array<[number, number]> = [];
      while (codes[i] !== 0x5d || ranges.length === 0) {
        if (codes[i] === undefined) throw malformed(pattern, 'a "[" class is never closed with "]"');
        if (codes[i] === 0x5d) throw malformed(pattern, 'a "[...]" class is empty');
        const lo = classChar();
        let hi = lo;
        if (codes[i] === 0x2d) {
          i++;
          hi = classChar();
        }
        ranges.push([lo, hi]);
      }
      i++; // the closing "]"
      current.tokens.push({ kind: 'class', negated, ranges });
    } else {
      current.tokens.push({ kind: 'char', code });
      i++;
    }
  }
  return chunks;
}

/** Matches `tokens` against `topic` from `at` (a UTF-16 offset): where the match ends, or -1. */
function matchTokens(tokens: Token[], topic: string, at: number): number {
  let pos = at;
  for (const token of tokens) {
    if (pos >= topic.length) return -1;
    const code = topic.codePointAt(pos)!;
    if (token.kind === 'char') {
      if (code !== token.code) return -1;
    } else if (token.kind === 'any') {
      if (code === SEPARATOR) return -1;
    } else {
      let inClass = false;
      for (const [lo, hi] of token.ranges) {
        if (lo <= code && code <= hi) {
          inClass = true;
          break;
        }
      }
      if (inClass === token.negated) return -1;
    }
    pos += code > 0xffff ? 2 : 1;
  }
  return pos;
}

/**
 * Go's chunk-by-chunk matching: each chunk takes the leftmost place its star allows (a star
 * skips characters other than "/"), except the last, which must end the topic.
 */
function matchChunks(chunks: Chunk[], topic: string): boolean {
  let pos = 0;
  for (let c = 0; c < chunks.length; c++) {
    const { star, tokens } = chunks[c]!;
    const last = c === chunks.length - 1;
    if (star && tokens.length === 0) {
      // A trailing star takes the rest, unless the rest holds a separator.
      if (last) return topic.indexOf('/', pos) < 0;
      continue;
    }
    let end = matchTokens(tokens, topic, pos);
    if (end >= 0 && (!last || end === topic.length)) {
      pos = end;
      continue;
    }
    if (!star) return false;
    let found = false;
    for (let skip = pos; skip < topic.length && topic.charCodeAt(skip) !== SEPARATOR; skip += widthAt(topic, skip)) {
      end = matchTokens(tokens, topic, skip + widthAt(topic, skip));
      if (end < 0 || (last && end !== topic.length)) continue;
      pos = end;
      found = true;
      break;
    }
    if (!found) return false;
  }
  return pos === topic.length;
}
