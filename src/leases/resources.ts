import { badRequest } from '../kernel/errors.js';
import { automataOverlap, automatonMatches, compileGlob, hasWildcard, splitSegments, type GlobAutomaton } from './glob-overlap.js';

// What a lease can claim (SPEC §16): a path relative to the repository (`src/api/orders.ts`),
// a glob (`src/api/**`, `*.sql`), or a name (`task:42`). Two resources conflict when some
// path matches both; names only conflict with the same name.
//
// Choices the SPEC leaves open, written down in docs/coordinating-agents.md:
// - A glob without a `/` (`*.sql`) matches at any depth, as in .gitignore and as the `applies_to`
//   globs of rules do; a leading `/` anchors it to the repository root (`/*.sql`). A plain path
//   without wildcards is exactly that path (`package.json` is the root one).
// - A trailing `/` claims a directory: `src/api/` is `src/api/**`.
// - `\` is a path separator (Windows paths), `./` and repeated `/` are dropped, `..` is refused.
// - `{a,b}` alternatives are expanded (at most 64 per resource).

export const MAX_RESOURCES = 100;
export const MAX_RESOURCE_LENGTH = 1024;
const MAX_ALTERNATIVES = 64;

/** `task:42`, `deploy:prod`: a word, a colon, anything; no `/` before the colon. */
const NAME = /^[A-Za-z][A-Za-z0-9_.-]*:[^/]/;

/** A resource ready for comparison. */
export interface Resource {
  /** As the lease lists it: normalized, braces kept. */
  text: string;
  kind: 'name' | 'path' | 'glob';
  /** Paths and globs: the compiled alternatives (one unless the glob has braces). */
  alternatives: GlobAutomaton[];
}

/** Expands `{a,b}` groups (nested too) into plain globs; throws past MAX_ALTERNATIVES. */
export function expandBraces(glob: string): string[] {
  const open = findOpenBrace(glob);
  if (!open) return [glob];
  const { start, end, options } = open;
  const out: string[] = [];
  for (const option of options) {
    for (const expanded of expandBraces(glob.slice(0, start) + option + glob.slice(end + 1))) {
      out.push(expanded);
      if (out.length > MAX_ALTERNATIVES) throw badRequest(`resource "${glob}" expands to more than ${MAX_ALTERNATIVES} alternatives`);
    }
  }
  return out;
}

/** The first `{…}` group with a top-level comma, or null (a lone `{` is a literal character). */
function findOpenBrace(glob: string): { start: number; end: number; options: string[] } | null {
  for (let start = glob.indexOf('{'); start >= 0; start = glob.indexOf('{', start + 1)) {
    let depth = 0;
    const commas: number[] = [];
    for (let i = start; i < glob.length; i++) {
      const ch = glob[i];
      if (ch === '{') depth++;
      else if (ch === '}') {
        depth--;
        if (depth === 0) {
          if (commas.length === 0) break;
          const cuts = [start, ...commas, i];
          const options = cuts.slice(1).map((cut, k) => glob.slice(cuts[k]! + 1, cut));
          return { start, end: i, options };
        }
      } else if (ch === ',' && depth === 1) commas.push(i);
    }
  }
  return null;
}

/** A path or glob in its one spelling: `/` separators, no `./`, no doubled `/`. */
function normalizePath(raw: string): { path: string; anchored: boolean; directory: boolean } {
  let path = raw.replace(/\\/g, '/');
  const anchored = path.startsWith('/');
  const directory = path.endsWith('/');
  const segments = splitSegments(path).filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw badRequest(`resource "${raw}" leaves the repository (..): use a path relative to the repository root`);
  path = segments.join('/');
  if (path === '') throw badRequest(`resource "${raw}" names no path`);
  return { path, anchored, directory };
}

/** Checks and normalizes one resource; a bad one is a 400 naming it. */
export function parseResource(raw: unknown): Resource {
  if (typeof raw !== 'string' || raw.trim() === '') throw badRequest('each resource must be a non-empty string');
  const text = raw.trim();
  if (text.length > MAX_RESOURCE_LENGTH) throw badRequest(`resource "${text.slice(0, 40)}…" is longer than ${MAX_RESOURCE_LENGTH} characters`);
  if (/[\0-\x1f]/.test(text)) throw badRequest(`resource "${text.slice(0, 40)}" contains a control character`);
  if (NAME.test(text)) return { text, kind: 'name', alternatives: [] };
  const { path, anchored, directory } = normalizePath(text);
  const glob = directory ? `${path}/**` : path;
  const alternatives = compiled(glob, anchored);
  const wild = directory || alternatives.length > 1 || hasWildcard(path);
  // The spelling keeps what changes the meaning: a trailing `/`, a leading `/` on a glob
  // that would otherwise float. Parsing it again gives the same resource.
  const spelled = directory ? `${path}/` : anchored && wild && splitSegments(path).length === 1 ? `/${path}` : path;
  return { text: spelled, kind: wild ? 'glob' : 'path', alternatives };
}

const cache = new Map<string, GlobAutomaton[]>();
const CACHE_LIMIT = 10_000;

/** Automata of a glob's alternatives, kept: the same resources are compared again and again. */
function compiled(glob: string, anchored: boolean): GlobAutomaton[] {
  const key = anchored ? `/${glob}` : glob;
  let found = cache.get(key);
  if (found) return found;
  found = expandBraces(glob).map((alternative) => {
    // A wildcard glob with no directory part floats: `*.sql` is every .sql file. Each
    // alternative is looked at alone (`{*.sql,db/**}`).
    const floats = !anchored && splitSegments(alternative).length === 1 && hasWildcard(alternative);
    return compileGlob(floats ? `**/${alternative}` : alternative);
  });
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(key, found);
  return found;
}

/** Checks a list of resources: at least one, at most MAX_RESOURCES, duplicates dropped. */
export function parseResources(raw: unknown, field = 'resources'): Resource[] {
  if (!Array.isArray(raw) || raw.length === 0) throw badRequest(`${field} must be a non-empty array of paths, globs or names`);
  if (raw.length > MAX_RESOURCES) throw badRequest(`${field} has ${raw.length} entries; the limit is ${MAX_RESOURCES}`);
  const seen = new Map<string, Resource>();
  for (const item of raw) {
    const resource = parseResource(item);
    if (!seen.has(resource.text)) seen.set(resource.text, resource);
  }
  return [...seen.values()];
}

/** Whether some path (or, for names, the same name) is claimed by both. */
export function resourcesOverlap(a: Resource, b: Resource): boolean {
  if (a.kind === 'name' || b.kind === 'name') return a.kind === b.kind && a.text === b.text;
  if (a.kind === 'path' && b.kind === 'path') return a.text === b.text;
  if (a.kind === 'path') return b.alternatives.some((y) => automatonMatches(y, a.text));
  if (b.kind === 'path') return a.alternatives.some((x) => automatonMatches(x, b.text));
  return a.alternatives.some((x) => b.alternatives.some((y) => automataOverlap(x, y)));
}

/**
 * The first segment every path the resource covers starts with (`src` for `src/api/**`), or
 * null when none is fixed (a floating `*.sql`, a wildcard in the first segment, a name):
 * leases are indexed by it, since resources with different first segments never overlap.
 */
export function firstSegments(resource: Resource): string[] | null {
  if (resource.kind === 'name') return null;
  if (resource.kind === 'path') return [resource.text.split('/')[0]!];
  const segments = new Set<string>();
  for (const alternative of resource.alternatives) {
    const slash = alternative.prefix.indexOf('/');
    if (slash < 0) return null;
    segments.add(alternative.prefix.slice(0, slash));
  }
  return [...segments];
}
