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
