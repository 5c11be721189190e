import type { NewEvent } from '@custos/domain';
import type { ExpectedRevision } from './event-store.port';

/**
 * Refuses appends that no adapter could store faithfully, before anything is written. These are
 * programming errors (TypeError), not conflicts: a caller never retries them.
 */
export function assertValidAppend(
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision,
): void {
  if (typeof stream !== 'string' || stream.length === 0)
    throw new TypeError('append: stream must be a non-empty string');
  // `$` names are EventStoreDB's system streams; keeping them out keeps both adapters' $all alike.
  if (stream.startsWith('$'))
    throw new TypeError(`append: stream names starting with "$" are reserved (${stream})`);
  if (expected !== 'any' && expected !== 'no_stream' && !(Number.isSafeInteger(expected) && expected >= 0))
    throw new TypeError(
      `append: expected revision must be a revision (>= 0), 'no_stream' or 'any', got ${String(expected)}`,
    );
  const ids = new Set<string>();
  for (const event of events) {
    if (typeof event.id !== 'string' || event.id.length === 0)
      throw new TypeError(`append to ${stream}: every event needs a non-empty string id`);
    if (typeof event.type !== 'string' || event.type.length === 0 || event.type.startsWith('$'))
      throw new TypeError(`append to ${stream}: event ${event.id} needs a type that does not start with "$"`);
    if (!Number.isSafeInteger(event.version) || event.version < 1)
      throw new TypeError(`append to ${stream}: event ${event.id} needs a version >= 1`);
    if (ids.has(event.id))
      throw new TypeError(`append to ${stream}: event id ${event.id} appears twice in one batch`);
    ids.add(event.id);
  }
}
