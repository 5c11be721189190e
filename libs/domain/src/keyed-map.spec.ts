import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyKeyedMap, keyedEntries, keyedGet, keyedHas, keyedSet } from './keyed-map';

describe('keyed map', () => {
  test('set gives a new map; every earlier version stays as it was', () => {
    const versions = [emptyKeyedMap<number>()];
    for (let i = 0; i < 500; i++) versions.push(keyedSet(versions.at(-1)!, `key-${i}`, i));
    for (const [n, version] of versions.entries()) {
      assert.equal(version.size, n);
      assert.equal(keyedGet(version, `key-${n - 1}`), n === 0 ? undefined : n - 1);
      assert.equal(keyedHas(version, `key-${n}`), false);
      assert.equal([...keyedEntries(version)].length, n);
    }
    assert.deepEqual(
      [...keyedEntries(versions[500]!)].sort(([, a], [, b]) => a - b),
      Array.from({ length: 500 }, (_, i) => [`key-${i}`, i]),
    );
  });

  test('replacing a value keeps the size; the old version keeps the old value', () => {
    const one = keyedSet(emptyKeyedMap<string>(), 'a', 'first');
    const replaced = keyedSet(one, 'a', 'second');
    assert.equal(replaced.size, 1);
    assert.equal(keyedGet(replaced, 'a'), 'second');
    assert.equal(keyedGet(one, 'a'), 'first');
  });

  test('a change copies one bucket and shares the others with the previous version', () => {
    let map = emptyKeyedMap<number>();
    for (let i = 0; i < 1000; i++) map = keyedSet(map, `k${i}`, i);
    const next = keyedSet(map, 'another', 1);
    const shared = next.buckets.filter((bucket, i) => bucket === map.buckets[i]).length;
    assert.equal(shared, next.buckets.length - 1);
  });

  test('maps with the same entries are deeply equal whatever the order they were made in', () => {
    const forward = ['x', 'y', 'z'].reduce((m, k) => keyedSet(m, k, k), emptyKeyedMap<string>());
    const backward = ['z', 'y', 'x'].reduce((m, k) => keyedSet(m, k, k), emptyKeyedMap<string>());
    assert.deepEqual(forward, backward);
  });
});
