import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-depth.js';

const nested = (levels: number): unknown => JSON.parse('['.repeat(levels) + ']'.repeat(levels));

test('nesting is counted in levels of arrays and objects, scalars are free', () => {
  assert.equal(nestedDeeperThan(42, 0), false);
  assert.equal(nestedDeeperThan('text', 0), false);
  assert.equal(nestedDeeperThan([], 0), true);
  assert.equal(nestedDeeperThan([], 1), false);
  assert.equal(nestedDeeperThan({ a: [1, { b: 2 }] }, 3), false);
  assert.equal(nestedDeeperThan({ a: [1, { b: 2 }] }, 2), true);
  assert.equal(nestedDeeperThan(nested(MAX_JSON_DEPTH)), false);
  assert.equal(nestedDeeperThan(nested(MAX_JSON_DEPTH + 1)), true);
});

test('a value nested a million levels deep is measured without running out of stack', () => {
  assert.equal(nestedDeeperThan(nested(1_000_000)), true);
  // Wide is not deep: a long flat array of small objects passes.
  assert.equal(nestedDeeperThan(Array.from({ length: 100_000 }, (_, i) => ({ i }))), false);
});
