import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './support/paths.js';

// State and specs are stored with the Content-Type they arrive with, and `curl -d` alone sends
// application/x-www-form-urlencoded: a documented example without a content type would store
// JSON as a form. Every curl line that sends a body says what it sends.
test('every curl example that sends a body in the README and docs/ gives its content type', () => {
  const root = packageRoot();
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const missing: string[] = [];
  for (const file of files) {
    readFileSync(join(root, file), 'utf8').split('\n').forEach((line, i) => {
      if (!/\bcurl\b/.test(line) || !/\s(-d|--data(-binary|-raw)?)\s/.test(line)) return;
      if (/content-type/i.test(line) || /-H\s+"\$J"/.test(line)) return;
      missing.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(missing, []);
});
