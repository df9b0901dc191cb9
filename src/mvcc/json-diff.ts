/** One difference between two JSON documents; `path` is a JSON Pointer (RFC 6901). */
export interface JsonDifference {
  operation: 'add' | 'remove' | 'replace';
  path: string;
  old_value?: unknown;
  new_value?: unknown;
}

const escapeToken = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}

/**
 * The differences that turn `before` into `after`: objects are compared member by member,
 * arrays element by element (so an insertion in the middle shows as replacements plus one
 * add), anything else that changed is one `replace`. Removals from the end of an array are
 * listed last index first, so the list can be applied in order like a JSON Patch.
 */
export function diffJson(before: unknown, after: unknown, path = ''): JsonDifference[] {
  if (sameJson(before, after)) return [];
  if (isObject(before) && isObject(after)) {
    const out: JsonDifference[] = [];
    for (const key of Object.keys(before)) {
      const child = `${path}/${escapeToken(key)}`;
      if (!Object.hasOwn(after, key)) out.push({ operation: 'remove', path: child, old_value: before[key] });
      else out.push(...diffJson(before[key], after[key], child));
    }
    for (const key of Object.keys(after)) {
      if (!Object.hasOwn(before, key)) out.push({ operation: 'add', path: `${path}/${escapeToken(key)}`, new_value: after[key] });
    }
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const out: JsonDifference[] = [];
    const common = Math.min(before.length, after.length);
    for (let i = 0; i < common; i++) out.push(...diffJson(before[i], after[i], `${path}/${i}`));
    for (let i = common; i < after.length; i++) out.push({ operation: 'add', path: `${path}/${i}`, new_value: after[i] });
    for (let i = before.length - 1; i >= common; i--) out.push({ operation: 'remove', path: `${path}/${i}`, old_value: before[i] });
    return out;
  }
  return [{ operation: 'replace', path, old_value: before, new_value: after }];
}
