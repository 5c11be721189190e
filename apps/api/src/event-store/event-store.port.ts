import type { NewEvent, RecordedEvent } from '@custos/domain';

/**
 * What the writer expects of the stream: its current revision (the last event's 0-based revision),
 * `no_stream` (it must not exist yet) or `any` (no check).
 */
export type ExpectedRevision = number | 'no_stream' | 'any';

export interface AppendResult {
  /** The stream's revision after the append (the last event's revision). */
  revision: number;
  /** Global position of the last event written (or of the existing event, for an idempotent no-op). */
  position: number;
}

/** The expected revision did not match: another writer got there first. Maps to HTTP 409. */
export class ConcurrencyError extends Error {
  override readonly name = 'ConcurrencyError';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** The stream's actual revision, or `no_stream`. */
    readonly actual: number | 'no_stream',
  ) {
    super(`stream ${stream}: expected revision ${String(expected)}, found ${String(actual)}`);
  }
}

export interface ReadStreamOptions {
  /** First revision to return (inclusive); default 0. */
  fromRevision?: number;
  /** At most this many events. */
  maxCount?: number;
}

export interface ReadAllOptions {
  /** At most this many events. */
  maxCount?: number;
}

/** A live subscription: iterate it; `close()` ends the iteration. */
export interface EventSubscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

/**
 * The event store port. Adapters: SQLite (embedded default) and EventStoreDB; both pass
 * `event-store.conformance.ts`.
 */
export interface EventStore {
  /**
   * Appends atomically. Appending events whose ids are all already in the stream is a no-op that
   * succeeds whatever `expected` says (safe retries) and returns where those events are; otherwise a
   * revision mismatch throws `ConcurrencyError` and writes nothing. An empty batch writes nothing but
   * still checks `expected`, and returns the stream's current revision and last position (-1, -1 when
   * the stream does not exist). Malformed input (empty stream name or id, an id twice in the batch,
   * a `$`-prefixed stream or type) throws a TypeError.
   */
  append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  /**
   * The stream's events in revision order; empty when the stream does not exist. The events may be
   * shared with other readers (the SQLite store answers recent ones from memory): do not change them.
   */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /**
   * Events of every stream in global order, strictly after `afterPosition` (all when omitted or -1).
   * Pass positions this store returned: they are adapter-specific numbers (SQLite: 1, 2, 3...;
   * EventStoreDB: log offsets), only their order is meaningful.
   */
  readAll(afterPosition?: number, options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /**
   * Catches up from `afterPosition` (exclusive; all when omitted or -1), then delivers new events
   * live, each exactly once and in global order.
   */
  subscribe(afterPosition?: number): EventSubscription;
  /** Position of the newest event, or -1 when the store is empty (for lag metrics). */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}
