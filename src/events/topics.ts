// Topic names and topic patterns. Topics are dot-separated segments (`api.change.contract`);
// patterns use `*` for exactly one segment and `**` for one or more, and `*` alone matches
// everything. Patterns are compiled into a segment list and matched without regular
// expressions, so no user input ever becomes a regex.

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

type Segment = { kind: 'literal'; text: string } | { kind: 'one' } | { kind: 'many' };

/** A compiled topic pattern. */
export class TopicPattern {
  private constructor(
    readonly source: string,
    private readonly segments: Segment[] | null,
  ) {}

  /** Compiles `pattern`, or throws TopicPatternError saying what is wrong with it. */
  static compile(pattern: string): TopicPattern {
    if (pattern === '*') return new TopicPattern(pattern, null);
    if (pattern === '') throw new TopicPatternError('pattern must not be empty');
    if (pattern.length > MAX_TOPIC_LENGTH) throw new TopicPatternError(`pattern is longer than ${MAX_TOPIC_LENGTH} characters`);
    const segments: Segment[] = pattern.split('.').map((text) => {
      if (text === '*') return { kind: 'one' };
      if (text === '**') return { kind: 'many' };
      if (SEGMENT.test(text)) return { kind: 'literal', text };
      throw new TopicPatternError(
        `invalid pattern "${pattern}": each segment must be a name, "*" (one segment) or "**" (one or more)`,
      );
    });
    return new TopicPattern(pattern, segments);
  }

  /** True when the pattern matches every topic. */
  get matchesAll(): boolean {
    return this.segments === null || (this.segments.length === 1 && this.segments[0]!.kind === 'many');
  }

  /** The exact topic when the pattern has no wildcard, else null. */
  get exactTopic(): string | null {
    if (!this.segments || this.segments.some((s) => s.kind !== 'literal')) return null;
    return this.source;
  }

  /** The literal segments before the first wildcard, joined with dots and ending in a dot ('' if none). */
  get literalPrefix(): string {
    if (!this.segments) return '';
    const literal: string[] = [];
    for (const s of this.segments) {
      if (s.kind !== 'literal') break;
      literal.push(s.text);
    }
    return literal.length === 0 ? '' : `${literal.join('.')}.`;
  }

  matches(topic: string): boolean {
    const pattern = this.segments;
    if (!pattern) return true;
    const parts = topic.split('.');
    // reachable[j]: the pattern segments seen so far can consume exactly the first j topic
    // segments. One row per pattern segment keeps `**` linear instead of backtracking.
    let reachable = new Array<boolean>(parts.length + 1).fill(false);
    reachable[0] = true;
    for (const segment of pattern) {
      const next = new Array<boolean>(parts.length + 1).fill(false);
      let any = false;
      for (let j = 0; j < parts.length; j++) {
        if (segment.kind === 'many') {
          // `**` takes one or more segments: carry reachability forward along the row.
          if (reachable[j] || next[j]) next[j + 1] = any = true;
        } else if (reachable[j] && (segment.kind === 'one' || segment.text === parts[j])) {
          next[j + 1] = any = true;
        }
      }
      if (!any) return false;
      reachable = next;
    }
    return reachable[parts.length]!;
  }
}

export class TopicPatternError extends Error {}
