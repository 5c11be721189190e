import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DocumentCache } from './document-cache';

const doc = (id: string, size: number) => JSON.stringify({ id, pad: 'x'.repeat(size) });

test('memory stays bounded: documents not read again go, those read again stay', () => {
  // Each document takes 1,000 bytes with its allowance: a generation (half the room) holds eight.
  const sized = (id: string) => doc(id, 1_000 - 64 - 'people'.length - 1 - id.length - doc(id, 0).length);
  const cache = new DocumentCache(16_000);
  const ids = Array.from({ length: 17 }, (_, i) => `d${String(i).padStart(2, '0')}`);
  for (const id of ids.slice(0, 9)) cache.set('people', id, sized(id));
  assert.equal(cache.get('people', 'd00'), sized('d00'), 'read again');
  for (const id of ids.slice(9)) cache.set('people', id, sized(id));
  for (const id of ids.slice(1, 9)) assert.equal(cache.get('people', id), undefined, `${id} went`);
  for (const id of ['d00', ...ids.slice(9)]) assert.equal(cache.get('people', id), sized(id), `${id} stayed`);
});

test('a document replaced or deleted in an older generation is never read stale', () => {
  const cache = new DocumentCache(16_000);
  cache.set('people', 'a', doc('a', 1));
  for (let i = 0; i < 20; i++) cache.set('people', `filler${i}`, doc(`filler${i}`, 500));
  cache.changed('people', 'a', doc('a', 2));
  assert.equal(cache.get('people', 'a'), doc('a', 2));
  for (let i = 20; i < 30; i++) cache.set('people', `filler${i}`, doc(`filler${i}`, 500));
  cache.changed('people', 'a', null);
  assert.equal(cache.get('people', 'a'), null);
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
