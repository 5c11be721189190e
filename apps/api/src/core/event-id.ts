import { randomFillSync } from 'node:crypto';

/** Random bytes drawn from the system in blocks, as `randomUUID` does: one call per 256 ids. */
const pool = Buffer.alloc(16 * 256);
let next = pool.length;
/** The millisecond of the last id, and its counter (see eventId). */
let lastMillisecond = -1;
let counter = 0;

/**
 * A UUID version 7 (RFC 9562): the event's time in milliseconds, then 74 random bits. Ids made in
 * time order land next to each other in every index that ends with `id` (the read models' primary
 * key and the tie-breaker of each of their indexes): an insert appends to the last page of each B-tree
 * instead of dirtying a random page per index. With random (version 4) ids an audit entry rewrote
 * ~10 pages of the read models' WAL; its time is already in the event's `occurredAt`.
 */
export function eventId(at: Date): string {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const bytes = pool.subarray(next, next + 16);
  next += 16;
  const ms = at.getTime();
  // RFC 9562 §6.2, method 1: the ids of one millisecond count up in the 12 bits after the version, from
  // a random start in their lower half, so they sort in the order they were made. Read models break
  // ties of a timestamp by id: an audit export listed a millisecond's entries in random order.
  if (ms === lastMillisecond && counter < 0xfff) counter += 1;
  else {
    lastMillisecond = ms;
    counter = ((bytes[6]! << 8) | bytes[7]!) & 0x7ff;
  }
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
