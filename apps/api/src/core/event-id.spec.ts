import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ID_PATTERN } from './id-param';
import { eventId } from './event-id';

describe('event ids', () => {
  test('are UUID version 7 (RFC 9562) carrying the time of the event, in the form the routes accept', () => {
    const at = new Date('2026-11-26T08:30:00.123Z');
    const id = eventId(at);
    assert.match(id, ID_PATTERN);
    assert.equal(id[14], '7', 'version 7');
    assert.match(id[19]!, /[89ab]/, 'RFC 9562 variant');
    assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), at.getTime());
  });

  test('made within one millisecond, sort in the order they were made', () => {
    const at = new Date('2026-11-26T08:30:00.123Z');
    const ids = Array.from({ length: 1_000 }, () => eventId(at));
    assert.deepEqual([...ids].sort(), ids);
  });

  test('sort in the order of their times, and are unique within one millisecond', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    const ids = Array.from({ length: 3_000 }, (_, i) => eventId(new Date(start + Math.floor(i / 10))));
    const byTime = ids.map((id, i) => [id, Math.floor(i / 10)] as const);
    const sorted = [...byTime].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    assert.deepEqual(
      sorted.map(([, ms]) => ms),
      byTime.map(([, ms]) => ms),
    );
    assert.equal(new Set(ids).size, ids.length, 'no id repeats (more ids than one pool of random bytes)');
  });
});
