import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffJson } from './json-diff.js';

test('diffJson: equal documents have no differences, whatever the member order', () => {
  assert.deepEqual(diffJson({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 }), []);
});

test('diffJson: a changed root or a changed type is one replace', () => {
  assert.deepEqual(diffJson(1, 2), [{ operation: 'replace', path: '', old_value: 1, new_value: 2 }]);
  assert.deepEqual(diffJson({ a: [1] }, { a: { 0: 1 } }), [{ operation: 'replace', path: '/a', old_value: [1], new_value: { 0: 1 } }]);
  assert.deepEqual(diffJson({ a: null }, { a: 0 }), [{ operation: 'replace', path: '/a', old_value: null, new_value: 0 }]);
});

test('diffJson: paths are JSON Pointers with ~ and / escaped', () => {
  assert.deepEqual(diffJson({}, { 'a/b': 1, 'm~n': 2, '': 3 }), [
    { operation: 'add', path: '/a~1b', new_value: 1 },
    { operation: 'add', path: '/m~0n', new_value: 2 },
    { operation: 'add', path: '/', new_value: 3 },
  ]);
});

test('diffJson: arrays grow at the end and shrink from the end backwards', () => {
  assert.deepEqual(diffJson([1], [1, 2, 3]), [
    { operation: 'add', path: '/1', new_value: 2 },
    { operation: 'add', path: '/2', new_value: 3 },
  ]);
  assert.deepEqual(diffJson({ l: [1, 2, 3] }, { l: [9] }), [
    { operation: 'replace', path: '/l/0', old_value: 1, new_value: 9 },
    { operation: 'remove', path: '/l/2', old_value: 3 },
    { operation: 'remove', path: '/l/1', old_value: 2 },
  ]);
});
