import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// Checks on the shape of the code that the type checker cannot make: they read the sources
// (src/, beside dist/ in the package checkout).
const root = fileURLToPath(new URL('../../', import.meta.url));
const srcDir = join(root, 'src');

function sources(dir = srcDir, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = sources().map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }));

test('only the committer and the database layer open transactions', () => {
  const opening = files.filter((f) => /\.transaction\s*\(/.test(f.text)).map((f) => f.path);
  assert.deepEqual(opening.filter((path) => !path.startsWith('src/db/')), ['src/commit/committer.ts']);
});

test('domains write only inside a change: no insert, update or delete on the shared query builder', () => {
  const outside = files.filter((f) => /(ctx|koor)\.db\.query\s*\.\s*(insertInto|updateTable|deleteFrom|replaceInto|mergeInto)/.test(f.text));
  assert.deepEqual(outside.map((f) => f.path), []);
});

/**
 * Module-level WeakMaps that are memos of immutable values (not app state), each with why.
 * App services are built in buildApp (src/server/app.ts) and live on the context.
 */
const MEMO_WEAKMAPS = new Map([
  ['src/events/hub.ts', 'an event\'s JSON bytes, encoded once however many subscribers receive it'],
  ['src/rules/scan.ts', 'the single-line variant of a compiled pattern'],
  ['src/db/executors.ts', 'the engine of each executor and the SQLite connection of each open transaction, kept by the database layer'],
]);

test('no module-level WeakMap holds app state', () => {
  const holders = files.filter((f) => /^const \w+ = new WeakMap/m.test(f.text)).map((f) => f.path);
  assert.deepEqual(holders.filter((path) => !MEMO_WEAKMAPS.has(path)), []);
});

test('every audit action is named once, in its domain', () => {
  // Routes reference the domain's constants; a quoted `area.verb` in a route config would be
  // a second spelling.
  const spelled = files.filter((f) => /auditAction:\s*['"`]/.test(f.text)).map((f) => f.path);
  assert.deepEqual(spelled, []);
});

// One schema per route (issue 15): a route's TypeBox schema validates, serializes, documents
// and types its handler, so no route restates it as a hand-written type or reads its request
// through a cast, and no interface elsewhere repeats a schema's fields.
const routeFiles = files.filter((f) => /(^|\/|-)routes\.ts$/.test(f.path) || f.path === 'src/server/health.ts');

test('route handlers read typed requests: no casts of request.body/query/params, no hand-written route generics', () => {
  assert.ok(routeFiles.length >= 15, `found only ${routeFiles.length} routes files`);
  const casts = routeFiles.filter((f) => /request\.(body|query|params|headers)\s+as\b/.test(f.text)).map((f) => f.path);
  assert.deepEqual(casts, [], 'cast request parts in routes files');
  const generics = routeFiles.filter((f) => /\b(app|api)\.(get|post|put|delete|patch|route)\s*<\s*\{/.test(f.text)).map((f) => f.path);
  assert.deepEqual(generics, [], 'route generics that restate a schema by hand');
});

test('route schemas are TypeBox schemas, not plain JSON Schema objects', () => {
  // Plain objects would validate and document but leave the handler untyped.
  const plain = routeFiles.filter((f) => /\btype:\s*'(object|array|string|integer|number|boolean)'/.test(f.text)).map((f) => f.path);
  assert.deepEqual(plain, []);
});

/** Top-level property names of each multi-line `Type.Object({ … })` in a schemas file. */
function schemaKeySets(): Array<{ where: string; keys: string }> {
  const found: Array<{ where: string; keys: string }> = [];
  for (const f of files.filter((file) => file.path.endsWith('/schemas.ts'))) {
    for (const match of f.text.matchAll(/(\w+) = Type\.Object\(\{\n([\s\S]*?)\n\}/g)) {
      const keys = [...match[2]!.matchAll(/^ {2}(\w+|'[^']+'):/gm)].map((k) => k[1]!).sort();
      if (keys.length >= 3) found.push({ where: `${f.path} ${match[1]}`, keys: keys.join(',') });
    }
  }
  return found;
}

test('no hand-written interface restates a route schema (types come from Static<typeof schema>)', () => {
  const schemas = schemaKeySets();
  assert.ok(schemas.length >= 10, `read only ${schemas.length} schemas`);
  const restated: string[] = [];
  // Database rows (tables.ts) describe columns, not the API, and are left alone.
  for (const f of files.filter((file) => !file.path.endsWith('/tables.ts'))) {
    for (const match of f.text.matchAll(/interface (\w+)(?: extends [^{]+)? \{\n([\s\S]*?)\n\}/g)) {
      const keys = [...match[2]!.matchAll(/^ {2}(?:readonly )?(\w+|'[^']+')\??:/gm)].map((k) => k[1]!).sort().join(',');
      const twin = schemas.find((s) => s.keys === keys);
      if (twin) restated.push(`${f.path} interface ${match[1]} restates ${twin.where}`);
    }
  }
  assert.deepEqual(restated, []);
});
