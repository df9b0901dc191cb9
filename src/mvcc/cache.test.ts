import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValueCache, type CachedValue } from './cache.js';

const value = (version: number, size = 10): CachedValue => ({
  version,
  data: Buffer.alloc(size),
  hash: 'h',
  contentType: 'application/json',
  updatedAt: '',
  etag: '"h"',
});
const tombstone = (version: number): CachedValue => ({ ...value(version), data: null });

test('ValueCache keeps only newer versions, and a delete wins over its own version', () => {
  const cache = new ValueCache(1 << 20);
  cache.offer('k', value(2));
  cache.offer('k', value(1));
  assert.equal(cache.get('k')?.version, 2);
  cache.offer('k', tombstone(2));
  assert.equal(cache.get('k')?.data, null);
  cache.offer('k', value(2));
  assert.equal(cache.get('k')?.data, null, 'a late read of the deleted version must not bring it back');
  cache.offer('k', value(3));
  assert.equal(cache.get('k')?.version, 3);
});

test('ValueCache evicts the least recently used entries beyond its byte budget', () => {
  const cache = new ValueCache(3000);
  cache.offer('a', value(1, 1000));
  cache.offer('b', value(1, 1000));
  cache.get('a');
  cache.offer('c', value(1, 1000));
  assert.ok(cache.totalBytes <= 3000);
  assert.ok(cache.get('a'), 'recently read entry stays');
  assert.equal(cache.get('b'), undefined, 'least recently used entry goes');
  cache.offer('huge', value(1, 5000));
  assert.equal(cache.get('huge'), undefined, 'a value larger than the budget is not cached');
});
