import RE2 from 're2';

// A small glob matcher for `applies_to`: `*` (within one path segment), `**` (any number of
// segments), `?` (one character but `/`), `{a,b}` (alternatives, may nest) and `[...]`
// character classes. Globs compile to RE2 so no glob can make matching slow.

const compiled = new Map<string, RE2>();
const CACHE_LIMIT = 2000;

function escapeLiteral(ch: string): string {
  return /[\\^$.|?*+()[\]{}]/.test(ch) ? `\\${ch}` : ch;
}

/** Translates one glob to a regular expression source (anchored by the caller). */
export function globToSource(glob: string): string {
  let out = '';
  let depth = 0; // inside how many `{…}`
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        i++;
        // `**/` also matches no directory at all, so `**/*.ts` matches `a.ts`.
        if (glob[i + 1] === '/') {
          i++;
          out += '(?:.*/)?';
        } else {
          out += '.*';
        }
      } else {
        out += '[^/]*';
      }
    } else if (ch === '?') {
      out += '[^/]';
    } else if (ch === '{') {
      depth++;
      out += '(?:';
    } else if (ch === '}' && depth > 0) {
      depth--;
      out += ')';
    } else if (ch === ',' && depth > 0) {
      out += '|';
    } else if (ch === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (ch === '\\' && i + 1 < glob.length) {
      out += escapeLiteral(glob[++i]!);
    } else {
      out += escapeLiteral(ch);
    }
  }
  // An unclosed `{` is taken literally rather than rejected: close the groups it opened.
  out += ')'.repeat(depth);
  return out;
}

function compileGlob(glob: string): RE2 | null {
  let re = compiled.get(glob);
  if (re) return re;
  try {
    re = new RE2(`^(?:${globToSource(glob)})$`);
  } catch {
    return null;
  }
  if (compiled.size >= CACHE_LIMIT) compiled.clear();
  compiled.set(glob, re);
  return re;
}

/** Whether `glob` is usable; null when it is, otherwise what is wrong. */
export function checkGlob(glob: string): string | null {
  return compileGlob(glob) ? null : `invalid glob "${glob}"`;
}

/** True when `path` (full path or its base name) matches one of `globs`; an empty list matches all. */
export function matchesAnyGlob(path: string, globs: readonly string[]): boolean {
  if (globs.length === 0) return true;
  const full = path.replace(/\\/g, '/').replace(/^\.\//, '');
  const base = full.slice(full.lastIndexOf('/') + 1);
  for (const glob of globs) {
    const re = compileGlob(glob.replace(/\\/g, '/'));
    if (re && (re.test(full) || re.test(base))) return true;
  }
  return false;
}
