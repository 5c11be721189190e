/**
 * An immutable map from string keys, for aggregate states that hold one entry per message or request.
 * `evolve` must not change the state it is given, and copying a whole Map per event made folding a
 * conversation cost the square of its length (in a 10-minute soak, 2,400 messages a conversation, the
 * copies and their garbage took a tenth of the API's CPU). The entries live in 64 buckets chosen by a
 * hash of the key: adding or replacing one copies the list of buckets and one bucket, and shares the
 * other 63 with the previous version.
 *
 * Plain data (frozen arrays of Maps), read and written only through the functions below. Iteration
 * follows the buckets, not the order of insertion.
 */
export interface KeyedMap<V> {
  readonly size: number;
  readonly buckets: readonly ReadonlyMap<string, V>[];
}

const BUCKETS = 64;
const NO_ENTRIES: ReadonlyMap<string, never> = new Map<string, never>();

/** The empty map (one shared value: nothing can change it). */
export function emptyKeyedMap<V>(): KeyedMap<V> {
  return EMPTY as KeyedMap<V>;
}
const EMPTY: KeyedMap<never> = Object.freeze({
  size: 0,
  buckets: Object.freeze(Array.from({ length: BUCKETS }, () => NO_ENTRIES)),
});

/** FNV-1a over the key's UTF-16 units, folded to a bucket number. */
function bucketOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % BUCKETS;
}

export function keyedGet<V>(map: KeyedMap<V>, key: string): V | undefined {
  return map.buckets[bucketOf(key)]!.get(key);
}

export function keyedHas<V>(map: KeyedMap<V>, key: string): boolean {
  return map.buckets[bucketOf(key)]!.has(key);
}

/** A new map with `key` set to `value`; `map` is unchanged. */
export function keyedSet<V>(map: KeyedMap<V>, key: string, value: V): KeyedMap<V> {
  const index = bucketOf(key);
  const bucket = map.buckets[index]!;
  const buckets = map.buckets.slice();
  buckets[index] = new Map(bucket).set(key, value);
  return Object.freeze({ size: map.size + (bucket.has(key) ? 0 : 1), buckets: Object.freeze(buckets) });
}

export function* keyedEntries<V>(map: KeyedMap<V>): IterableIterator<[string, V]> {
  for (const bucket of map.buckets) yield* bucket;
}
