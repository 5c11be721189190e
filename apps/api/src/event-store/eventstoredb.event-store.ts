import type { EventMetadata, NewEvent, RecordedEvent } from '@custos/domain';
import {
  ANY,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  type EventData,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  type Position,
  type ReadPosition,
  type RecordedEvent as EsdbRecordedEvent,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  excludeSystemEvents,
  jsonEvent,
} from '@eventstore/db-client';
import { assertValidAppend } from './append-validation';
import {
  type AppendResult,
  ConcurrencyError,
  type EventStore,
  type EventSubscription,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
} from './event-store.port';
import { uuidV5 } from './uuid-v5';

/** Namespace of the UUID v5 that stands for a Custos event id in EventStoreDB (fixed forever). */
export const CUSTOS_EVENT_ID_NAMESPACE = 'eea88309-b8e4-5b94-aca2-656f107a5041';

/** Events per request when paging through $all or a stream. */
const PAGE_SIZE = 500;
/** A live subscription pauses the gRPC stream when this many events wait for the consumer. */
const SUBSCRIPTION_HIGH_WATER = 1000;

/**
 * What the adapter stores as EventStoreDB's custom metadata: our metadata plus what EventStoreDB has
 * no field for (our event id, the schema version). `$correlationId` / `$causationId` are the names
 * EventStoreDB's own `$by_correlation_id` projection reads.
 */
export interface StoredMetadata {
  custosId: string;
  version: number;
  metadata: EventMetadata;
  $correlationId: string;
  $causationId: string;
}

/** Our event id (e.g. `txHash:logIndex`) as the UUID EventStoreDB requires: same id, same UUID. */
export function toEsdbEventId(id: string): string {
  return uuidV5(id, CUSTOS_EVENT_ID_NAMESPACE);
}

export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  return BigInt(expected);
}

export function toEsdbEventData(event: NewEvent): EventData {
  const metadata: StoredMetadata = {
    custosId: event.id,
    version: event.version,
    metadata: event.metadata,
    $correlationId: event.metadata.correlationId,
    $causationId: event.metadata.causationId,
  };
  return jsonEvent({
    id: toEsdbEventId(event.id),
    type: event.type,
    // The client JSON-serialises data whatever its type; its typings only admit objects, arrays, strings.
    data: event.data as Record<string, unknown>,
    metadata,
  });
}

/**
 * The $all position as one number. An event's $all position is (commit, prepare), two byte offsets
 * in the transaction log. Every append through the gRPC API is an implicit transaction whose events
 * are each "self-committed": EventStoreDB's AllReader gives each such event commit = prepare = the
 * event's own log offset, so `commit` alone is unique and strictly increasing in $all order, and
 * (n, n) turns it back into the exact Position. (Only legacy TCP explicit transactions share one
 * commit position among several events; nothing writes those here.) Offsets stay far below 2^53
 * (8 PiB of log), checked anyway.
 */
export function positionToNumber(position: Position): number {
  const value = Number(position.commit);
  if (!Number.isSafeInteger(value)) throw new RangeError(`$all position ${position.commit} exceeds 2^53`);
  return value;
}

export function numberToPosition(position: number): ReadPosition {
  return position < 0 ? START : { commit: BigInt(position), prepare: BigInt(position) };
}

/** EventStoreDB's own events ($metadata, $stats, projections' output, ...): not part of our history. */
export function isSystemEvent(event: { type: string; streamId: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

export function fromEsdbEvent(event: EsdbRecordedEvent, position: number): RecordedEvent {
  const stored = (event.metadata ?? {}) as Partial<StoredMetadata>;
  return {
    id: stored.custosId ?? event.id,
    type: event.type,
    version: stored.version ?? 1,
    data: event.data,
    metadata: stored.metadata as EventMetadata,
    stream: event.streamId,
    revision: Number(event.revision),
    position,
    recordedAt: event.created.toISOString(),
  };
}

/**
 * The production event store: EventStoreDB / KurrentDB through the official gRPC client.
 *
 * Idempotency. Our ids become UUID v5, so a re-append sends the same event ids. EventStoreDB itself
 * recognises a full re-append and answers success without writing when the expected revision is the
 * one the batch was first written with (a concrete revision or no_stream: it compares the ids at the
 * revisions that follow), and, best effort from a cache of recent writes, with `any`. When the
 * re-append carries another (stale) revision it answers WrongExpectedVersion; the adapter then looks
 * for the ids in the stream and, when all are there, returns the existing events' revision and
 * position as the port requires. Known limit: an `any` re-append of events old enough to have left
 * EventStoreDB's cache, or a re-append with the stream's current revision, is written again.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly subscriptions = new Set<EventStoreDbSubscription>();

  constructor(connectionString: string) {
    this.client = EventStoreDBClient.connectionString(toEsdbConnectionString(connectionString));
  }

  async append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    assertValidAppend(stream, events, expected);
    if (events.length === 0) return this.checkWithoutWriting(stream, expected);
    try {
      const result = await this.client.appendToStream(stream, events.map(toEsdbEventData), {
        expectedRevision: toEsdbExpectedRevision(expected),
      });
      const revision = Number(result.nextExpectedRevision);
      // A one-event append's position is that event's (its commit = prepare = its log offset). For a
      // batch, which offset the answer carries differs between server versions, and an idempotent
      // answer may carry none: read the last event's position from the stream instead.
      const position =
        events.length === 1 && result.position
          ? positionToNumber(result.position)
          : await this.positionOf(stream, revision);
      return { revision, position };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      const existing = await this.findExisting(stream, events);
      if (existing) return existing;
      const actual = error.actualVersion;
      throw new ConcurrencyError(stream, expected, typeof actual === 'bigint' ? Number(actual) : 'no_stream');
    }
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    const maxCount = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (maxCount <= 0) return events;
    try {
      const read = this.client.readStream(stream, {
        fromRevision: BigInt(options.fromRevision ?? 0),
        maxCount,
        direction: FORWARDS,
      });
      for await (const resolved of read) {
        const event = resolved.event;
        if (event) events.push(fromEsdbEvent(event, event.position ? positionToNumber(event.position) : -1));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  readAll(afterPosition = -1, options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    return this.readAllPages(afterPosition, options.maxCount ?? Infinity);
  }

  subscribe(afterPosition = -1): EventSubscription {
    const stream = this.client.subscribeToAll({
      fromPosition: numberToPosition(afterPosition),
      resolveLinkTos: false,
      // Server-side filter on event types; the adapter also drops `$` streams (see isSystemEvent).
      filter: excludeSystemEvents(),
    });
    const subscription = new EventStoreDbSubscription(stream, afterPosition, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /**
   * The newest non-system event's position. Reading $all backwards from the end: the very last record
   * is often EventStoreDB's own (statistics every few seconds, metadata), which a projection's
   * checkpoint never reaches, so those are skipped.
   */
  async headPosition(): Promise<number> {
    let from: ReadPosition = END;
    for (;;) {
      let count = 0;
      let oldest: Position | undefined;
      for await (const resolved of this.client.readAll({
        fromPosition: from,
        direction: BACKWARDS,
        maxCount: PAGE_SIZE,
      })) {
        count += 1;
        const event = resolved.event;
        if (!event) continue;
        if (!isSystemEvent(event)) return positionToNumber(event.position);
        oldest = event.position;
      }
      if (count < PAGE_SIZE || !oldest) return -1;
      from = oldest;
    }
  }

  async close(): Promise<void> {
    for (const subscription of [...this.subscriptions]) await subscription.close();
    await this.client.dispose();
  }

  private async *readAllPages(afterPosition: number, maxCount: number): AsyncGenerator<RecordedEvent> {
    let last = afterPosition;
    let remaining = maxCount;
    let from = numberToPosition(afterPosition);
    while (remaining > 0) {
      // Each page is read completely before it is handed out, so no server read stays open while the
      // consumer works on the events.
      const page: RecordedEvent[] = [];
      let count = 0;
      let lastSeen: Position | undefined;
      for await (const resolved of this.client.readAll({
        fromPosition: from,
        direction: FORWARDS,
        maxCount: PAGE_SIZE,
      })) {
        count += 1;
        const event = resolved.event;
        if (!event) continue;
        lastSeen = event.position;
        const position = positionToNumber(event.position);
        // Reads start AT the given position (inclusive), so the previous page's last event comes
        // back first; `position > last` drops it and anything at or before the caller's position.
        if (position <= last || isSystemEvent(event)) continue;
        last = position;
        page.push(fromEsdbEvent(event, position));
      }
      for (const event of page.slice(0, remaining)) yield event;
      remaining -= page.length;
      if (count < PAGE_SIZE || !lastSeen) return;
      from = lastSeen;
    }
  }

  /** Position of the event at `revision` (events read from a stream carry it on servers >= 22.6). */
  private async positionOf(stream: string, revision: number): Promise<number> {
    for await (const resolved of this.client.readStream(stream, {
      fromRevision: BigInt(revision),
      maxCount: 1,
    }))
      if (resolved.event?.position) return positionToNumber(resolved.event.position);
    return -1;
  }

  /** When every event of the batch is already in the stream: the last one's revision and position. */
  private async findExisting(stream: string, events: readonly NewEvent[]): Promise<AppendResult | undefined> {
    const wanted = new Map(events.map((event) => [toEsdbEventId(event.id), event.id]));
    const lastId = toEsdbEventId(events[events.length - 1]?.id ?? '');
    let result: AppendResult | undefined;
    try {
      // Backwards: a retry is almost always about recent events.
      for await (const resolved of this.client.readStream(stream, {
        fromRevision: END,
        direction: BACKWARDS,
      })) {
        const event = resolved.event;
        if (!event || !wanted.delete(event.id)) continue;
        if (event.id === lastId)
          result = {
            revision: Number(event.revision),
            position: event.position ? positionToNumber(event.position) : -1,
          };
        if (wanted.size === 0) return result;
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
    return undefined;
  }

  private async checkWithoutWriting(stream: string, expected: ExpectedRevision): Promise<AppendResult> {
    let tip: AppendResult = { revision: -1, position: -1 };
    try {
      for await (const resolved of this.client.readStream(stream, {
        fromRevision: END,
        direction: BACKWARDS,
        maxCount: 1,
      })) {
        const event = resolved.event;
        if (event)
          tip = {
            revision: Number(event.revision),
            position: event.position ? positionToNumber(event.position) : -1,
          };
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    const current = tip.revision;
    if (expected === 'no_stream' ? current !== -1 : expected !== 'any' && expected !== current)
      throw new ConcurrencyError(stream, expected, current === -1 ? 'no_stream' : current);
    return tip;
  }
}

/**
 * Client 6.x parses only `esdb://` and `esdb+discover://`; the configuration also admits KurrentDB's
 * `kurrentdb://` spelling of the same connection string.
 */
export function toEsdbConnectionString(url: string): string {
  return url.replace(/^kurrentdb(\+discover)?:\/\//i, (_match, discover: string | undefined) =>
    discover ? 'esdb+discover://' : 'esdb://',
  );
}

/**
 * Adapts the client's catch-up subscription (a Node stream that catches up from the position, then
 * goes live, server-side) to our async iterator. Events are queued with backpressure (pause/resume);
 * positions are checked to be increasing, so an event at or before the start or already delivered
 * (e.g. inclusive start, reconnect) is never delivered twice. A dropped connection ends the iteration
 * by throwing the client's error: the consumer resubscribes from the last position it processed.
 */
class EventStoreDbSubscription implements EventSubscription, AsyncIterableIterator<RecordedEvent> {
  private readonly queue: RecordedEvent[] = [];
  private head = 0;
  private closed = false;
  private ended = false;
  private failure: Error | undefined;
  private waiting: (() => void) | undefined;

  constructor(
    private readonly stream: AllStreamSubscription,
    private lastPosition: number,
    private readonly onClose: () => void,
  ) {
    stream.on('data', (resolved) => {
      const event = resolved.event;
      if (!event || isSystemEvent(event)) return;
      const position = positionToNumber(event.position);
      if (position <= this.lastPosition) return;
      this.lastPosition = position;
      this.queue.push(fromEsdbEvent(event, position));
      if (this.queue.length - this.head >= SUBSCRIPTION_HIGH_WATER) stream.pause();
      this.wake();
    });
    stream.on('error', (error) => {
      this.failure = error;
      this.wake();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
    stream.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<RecordedEvent>> {
    for (;;) {
      if (this.closed) return { value: undefined, done: true };
      const event = this.queue[this.head];
      if (event) {
        this.head += 1;
        if (this.head === this.queue.length) {
          this.queue.length = 0;
          this.head = 0;
        }
        if (this.stream.isPaused() && this.queue.length - this.head < SUBSCRIPTION_HIGH_WATER / 2)
          this.stream.resume();
        return { value: event, done: false };
      }
      if (this.failure) throw this.failure;
      if (this.ended) return { value: undefined, done: true };
      await new Promise<void>((resolve) => (this.waiting = resolve));
      this.waiting = undefined;
    }
  }

  async return(): Promise<IteratorResult<RecordedEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.onClose();
    this.wake();
    await this.stream.unsubscribe();
  }

  private wake(): void {
    this.waiting?.();
  }
}
