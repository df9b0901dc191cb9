import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGlob, matchesAnyGlob } from './glob.js';

test('globs match the full path or the base name', () => {
  const cases: [string, string, boolean][] = [
    ['src/app/main.ts', '*.ts', true],
    ['src/app/main.ts', '*.js', false],
    ['src/app/main.ts', 'src/*.ts', false],
    ['src/app/main.ts', 'src/*/*.ts', true],
    ['src/app/main.ts', 'src/**/*.ts', true],
    ['src/main.ts', 'src/**/*.ts', true],
    ['main.ts', '**/*.ts', true],
    ['lib/main.ts', 'src/**', false],
    ['src/deep/er/x.go', 'src/**', true],
    ['a.tsx', '*.{ts,tsx}', true],
    ['a.jsx', '*.{ts,tsx}', false],
    ['pkg/a.test.ts', '*.{test,spec}.{ts,js}', true],
    ['a1.ts', 'a?.ts', true],
    ['a12.ts', 'a?.ts', false],
    ['src\\win\\file.py', 'src/**/*.py', true],
    ['./src/x.py', 'src/*.py', true],
    ['data.v2.json', 'data.v?.json', true],
    ['b.ts', '[ab].ts', true],
    ['c.ts', '[!ab].ts', true],
    ['Dockerfile', 'Dockerfile', true],
    ['(weird)+name.ts', '(weird)+*.ts', true],
  ];
  for (const [path, glob, expected] of cases) {
    assert.equal(matchesAnyGlob(path, [glob]), expected, `${glob} vs ${path}`);
  }
  assert.equal(matchesAnyGlob('anything.txt', []), true, 'no globs: applies everywhere');
  assert.equal(matchesAnyGlob('x.md', ['*.ts', '*.md']), true);
});

test('a glob with unbalanced braces is still usable', () => {
  assert.equal(checkGlob('*.{ts'), null);
  assert.equal(checkGlob('src/**'), null);
});
