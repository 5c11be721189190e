import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DocumentCache } from './document-cache';

const doc = (id: string, size: number) => JSON.stringify({ id, pad: 'x'.repeat(size) });

test('memory stays bounded: the least recently read documents go first', () => {
  // Room for sixteen of these documents (each 1,000 bytes with its allowance), the most a document
  // of this size may take of it.
  const sized = (id: string) => doc(id, 1_000 - 64 - 'people'.length - 1 - id.length - doc(id, 0).length);
  const cache = new DocumentCache(16_000);
  const ids = Array.from({ length: 16 }, (_, i) => `d${String(i).padStart(2, '0')}`);
  for (const id of ids) cache.set('people', id, sized(id));
  assert.equal(cache.get('people', 'd00'), sized('d00'), 'read again: now the most recent');
  cache.set('people', 'd16', sized('d16'));
  assert.equal(cache.get('people', 'd01'), undefined, 'd01, read least recently, was dropped');
  for (const id of [...ids.filter((id) => id !== 'd01'), 'd16'])
    assert.equal(cache.get('people', id), sized(id), id);
});

test('a document larger than a sixteenth of the room is not held, and holds nothing stale', () => {
  const cache = new DocumentCache(16_000);
  cache.set('people', 'a', doc('a', 10));
  cache.set('people', 'a', doc('a', 2_000));
  assert.equal(cache.get('people', 'a'), undefined);
});

test('a committed change replaces a held document (or its absence) and holds no others', () => {
  const cache = new DocumentCache(10_000);
  cache.set('people', 'a', doc('a', 1));
  cache.set('people', 'missing', null);
  cache.changed('people', 'a', doc('a', 2));
  cache.changed('people', 'missing', doc('missing', 1));
  cache.changed('people', 'unread', doc('unread', 1));
  cache.changed('audit', 'a', null);
  assert.equal(cache.get('people', 'a'), doc('a', 2));
  assert.equal(cache.get('people', 'missing'), doc('missing', 1));
  assert.equal(cache.get('people', 'unread'), undefined);
  assert.equal(cache.get('audit', 'a'), undefined, 'collections are apart');
  cache.changed('people', 'a', null);
  assert.equal(cache.get('people', 'a'), null, 'deleted: known not to exist');
});
