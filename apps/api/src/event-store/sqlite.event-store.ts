import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { NewEvent, RecordedEvent } from '@custos/domain';
import Database from 'better-sqlite3';
import { assertValidAppend } from './append-validation';
import { ForeignCommits } from '../sqlite/foreign-commits';
import { checkpointInBackground, type WalCheckpointer } from '../sqlite/wal-checkpointer';
import {
  type AppendResult,
  ConcurrencyError,
  type EventStore,
  type EventSubscription,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
} from './event-store.port';

/** The file the SQLite event store keeps under CUSTOS_DATA_DIR. */
export const EVENTS_FILE_NAME = 'events.sqlite';

/** Bumped when the table layout changes; a file written by a newer layout is refused. */
const SCHEMA_VERSION = 1;

/**
 * One table. `position` aliases SQLite's rowid, so it is the global order for free: SQLite has one
 * writer at a time, so positions become visible in increasing order and a reader never sees a gap
 * that fills later. Rows are never deleted, so without AUTOINCREMENT no position is ever reused.
 * UNIQUE(stream, revision) is also the index for reading a stream and finding its revision;
 * UNIQUE(stream, id) makes re-appends detectable.
 */
export const EVENTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY,
  stream      TEXT    NOT NULL,
  revision    INTEGER NOT NULL,
  id          TEXT    NOT NULL,
  type        TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  data        TEXT    NOT NULL,
  metadata    TEXT    NOT NULL,
  recorded_at TEXT    NOT NULL,
  UNIQUE (stream, revision),
  UNIQUE (stream, id)
);`;

/** WAL lets readers (subscriptions, other processes) run while one append writes; NORMAL syncs at checkpoints only. */
export const EVENTS_PRAGMAS = ['journal_mode = WAL', 'synchronous = NORMAL', 'busy_timeout = 5000'] as const;

export interface SqliteEventStoreOptions {
  /** Folder that holds `events.sqlite`; created when missing. */
  dataDir: string;
  /** How often live subscriptions look for events appended by another process (ms). Default 100. */
  pollIntervalMs?: number;
  /** Rows per query when reading all events or catching up. Default 1000. */
  pageSize?: number;
  /**
   * Copy the WAL into the file from a thread of its own (WalCheckpointer) rather than inside the
   * commits of the event loop. Default true.
   */
  checkpointInBackground?: boolean;
}

/** A row of the events table, as better-sqlite3 returns it. */
export interface EventRow {
  position: number;
  stream: string;
  revision: number;
  id: string;
  type: string;
  version: number;
  data: string;
  metadata: string;
  recorded_at: string;
}

interface StreamTip {
  revision: number;
  position: number;
}

/**
 * The open stores of this process by file: an append wakes the subscriptions of every store on its
 * file at once (another store on the same file in this process need not wait for its poll).
 */
const openStores = new Map<string, Set<SqliteEventStore>>();

/** An append waiting for the next group commit. */
interface QueuedAppend {
  stream: string;
  events: readonly NewEvent[];
  expected: ExpectedRevision;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

const COLUMNS = 'position, stream, revision, id, type, version, data, metadata, recorded_at';

/**
 * The tail keeps between this many and twice as many of the newest events (fewer with a smaller page
 * size). The live subscriptions read each commit in the turn it is made, so a few turns' worth is
 * plenty; an event kept longer outlives V8's young generation, and every scavenge copied it on the
 * way: with 1,000 to 2,000 kept, the append-to-projection pipeline cost a sixth more CPU.
 */
const TAIL_KEPT = 128;

/** Streams whose last revision a store keeps (see SqliteEventStore.streamTips). */
const STREAM_TIPS_KEPT = 10_000;

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    type: row.type,
    version: row.version,
    data: JSON.parse(row.data) as unknown,
    metadata: JSON.parse(row.metadata) as RecordedEvent['metadata'],
    stream: row.stream,
    revision: row.revision,
    position: row.position,
    recordedAt: row.recorded_at,
  };
}

/**
 * The embedded event store: one SQLite file under the data folder. better-sqlite3 is synchronous, so
 * a commit is one short IMMEDIATE transaction on the event loop with every statement prepared once.
 *
 * Group commit: the appends made in one turn of the event loop, by the requests that arrived in the
 * same round of I/O, wait for the end of the turn (setImmediate) and are committed together, in call
 * order, each in a savepoint of its own so that one append's failure (a revision conflict) refuses
 * only that append. A read of a stream with an append still waiting commits the queue first, so a
 * command always decides on everything this process appended before it. Every caller is answered
 * after its commit. The subscriptions are woken once, at the end of the turn, for everything it
 * committed. Under load one commit and one batch for each projection then serve many requests (a
 * commit of its own per message sent cost bench:api's message sends a tenth more CPU).
 *
 * Subscriptions read by position, so catch-up and live delivery are the same read: appends in this
 * process wake them at the end of the turn (also those of other stores on the same file), and a timer
 * wakes them for appends made by another process on the same file. The newest events are kept in
 * memory (the tail, see readPage), so live delivery does not query the table.
 */
export class SqliteEventStore implements EventStore {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly pollIntervalMs: number;
  private readonly pageSize: number;
  private readonly subscriptions = new Set<SqliteSubscription>();
  /** The stores of this process on this file, this one included (see openStores). */
  private readonly neighbours: Set<SqliteEventStore>;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly checkpointer: WalCheckpointer | undefined;
  /**
   * The newest events, every one after `tailAfter` in order (see readPage): what this store committed
   * while it had subscriptions, and what readPage last read up to the end of the table.
   */
  private tail: RecordedEvent[] = [];
  private tailAfter = -1;
  /** Whether no event exists after the tail's last: cleared when another connection may have added some. */
  private tailComplete = false;
  /**
   * The last revision of streams this store committed to or read to their end, while no other
   * connection has committed since (forgotten when one may have): readStream answers from it and the
   * tail without a query (see readStream).
   */
  private readonly streamTips = new Map<string, number>();
  private readonly otherWriters: ForeignCommits;
  private closed = false;
  /** Appends waiting for the end of the turn, committed together then. */
  private queue: QueuedAppend[] = [];
  /** The streams of the queued appends (see readStream). */
  private readonly queuedStreams = new Set<string>();
  /** Whether endTurn is scheduled. */
  private turnEnding = false;
  /** Whether this turn committed events, so the subscriptions are woken at its end. */
  private wroteThisTurn = false;

  private readonly selectTip: Database.Statement<[string], StreamTip>;
  private readonly selectById: Database.Statement<[string, string], StreamTip>;
  private readonly insertEvent: Database.Statement<
    [string, number, string, string, number, string, string, string]
  >;
  private readonly selectStream: Database.Statement<[string, number, number], EventRow>;
  private readonly selectAfter: Database.Statement<[number, number], EventRow>;
  private readonly selectHead: Database.Statement<[], number | null>;
  /** One append as a transaction of its own (a group of one needs no savepoint). */
  private readonly appendAlone: (
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ) => Written;
  /** One append inside the group's transaction: a savepoint, rolled back alone when it fails. */
  private readonly appendInSavepoint: (
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ) => Written;
  private readonly commitGroup: (group: readonly QueuedAppend[]) => GroupOutcome[];

  constructor(options: SqliteEventStoreOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.pageSize = options.pageSize ?? 1000;
    mkdirSync(options.dataDir, { recursive: true });
    this.file = path.join(options.dataDir, EVENTS_FILE_NAME);
    this.db = new Database(this.file);
    try {
      for (const pragma of EVENTS_PRAGMAS) this.db.pragma(pragma);
      const version = this.db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION)
        throw new Error(`${this.file} has event store schema ${version}; this build knows ${SCHEMA_VERSION}`);
      this.db.exec(EVENTS_SCHEMA);
      if (version < SCHEMA_VERSION) this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } catch (error) {
      this.db.close();
      throw error;
    }

    this.selectTip = this.db.prepare(
      'SELECT revision, position FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
    );
    this.selectById = this.db.prepare('SELECT revision, position FROM events WHERE stream = ? AND id = ?');
    this.insertEvent = this.db.prepare(
      'INSERT INTO events (stream, revision, id, type, version, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.selectStream = this.db.prepare(
      `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`,
    );
    this.selectAfter = this.db.prepare(
      `SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`,
    );
    this.selectHead = this.db.prepare<[], number | null>('SELECT MAX(position) FROM events').pluck();
    this.otherWriters = new ForeignCommits(this.db);

    const appendOne = this.db.transaction(
      (stream: string, events: readonly NewEvent[], expected: ExpectedRevision) =>
        this.appendInTransaction(stream, events, expected),
    );
    // Called inside the group's transaction, better-sqlite3 runs it as a savepoint.
    this.appendInSavepoint = appendOne;
    this.appendAlone = appendOne.immediate;
    const group = this.db.transaction((appends: readonly QueuedAppend[]) =>
      appends.map((append): GroupOutcome => {
        try {
          return { ok: true, result: this.appendInSavepoint(append.stream, append.events, append.expected) };
        } catch (error) {
          // A conflict rolled back its savepoint only. An error that ended the whole transaction
          // (disk full, I/O) fails the group: nothing of it is committed.
          if (!this.db.inTransaction) throw error;
          return { ok: false, error };
        }
      }),
    );
    // IMMEDIATE takes the write lock up front: a deferred transaction that reads, then writes, fails
    // with SQLITE_BUSY (not retried by busy_timeout) when another process wrote in between.
    this.commitGroup = group.immediate;

    const key = path.resolve(this.file);
    this.neighbours = openStores.get(key) ?? new Set();
    openStores.set(key, this.neighbours.add(this));

    if (options.checkpointInBackground ?? true) {
      this.checkpointer = checkpointInBackground(this.db, this.file);
    }
  }

  /** Resolves once the events are committed (see the group commit above). */
  append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    try {
      this.assertOpen();
      assertValidAppend(stream, events, expected);
    } catch (error) {
      return Promise.reject(error);
    }
    const committed = new Promise<AppendResult>((resolve, reject) =>
      this.queue.push({ stream, events, expected, resolve, reject }),
    );
    if (!this.turnEnding) {
      this.turnEnding = true;
      setImmediate(this.endTurn);
    }
    this.queuedStreams.add(stream);
    return committed;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    // A command decides on what it reads: an append to this stream still waiting for the end of the
    // turn is committed first (with those queued before it), so the command sees it, as it would in
    // order. Commands on other streams keep sharing their turn's commit.
    for (const store of this.neighbours) if (store.queuedStreams.has(stream)) store.flush();
    this.noticeOtherWriters();
    const fromRevision = options.fromRevision ?? 0;
    const maxCount = options.maxCount ?? Infinity;
    const known = this.knownEvents(stream, fromRevision, maxCount);
    if (known) return known;
    const rows = this.selectStream.all(stream, fromRevision, options.maxCount ?? -1);
    const last = rows.at(-1);
    if (last && rows.length < maxCount) this.setTip(stream, last.revision);
    return rows.map(toRecordedEvent);
  }

  /**
   * The events of `stream` from `fromRevision` on, when this store knows them without a query: the
   * stream's last revision is known (streamTips) and every event after `fromRevision` is in the tail.
   * A command reads the stream it is about to append to from the revision after the one it folded
   * last, which is mostly nothing or what this store appended a moment ago: in WAL mode a query is
   * a read transaction of its own, 25-30 µs here, about a tenth of bench:api's message send.
   */
  private knownEvents(stream: string, fromRevision: number, maxCount: number): RecordedEvent[] | undefined {
    const tip = this.streamTips.get(stream);
    if (tip === undefined) return undefined;
    if (fromRevision > tip || maxCount <= 0) return [];
    if (!this.tailComplete) return undefined;
    const wanted = tip - fromRevision + 1;
    const found: RecordedEvent[] = [];
    for (let i = this.tail.length - 1; i >= 0 && found.length < wanted; i--) {
      const event = this.tail[i] as RecordedEvent;
      if (event.stream === stream) found.push(event);
    }
    if (found.length < wanted) return undefined;
    found.reverse();
    return found.length > maxCount ? found.slice(0, maxCount) : found;
  }

  private setTip(stream: string, revision: number): void {
    // Bounded: forgetting costs a query, never an answer.
    if (this.streamTips.size >= STREAM_TIPS_KEPT && !this.streamTips.has(stream)) this.streamTips.clear();
    this.streamTips.set(stream, revision);
  }

  /** Another connection may have added events: the tail may miss some and the tips may be old. */
  private forgetWhatOthersMayHaveChanged(): void {
    this.tailComplete = false;
    this.streamTips.clear();
  }

  /** Looks (once per turn) whether another connection committed. */
  private noticeOtherWriters(): void {
    if (this.otherWriters.happened()) this.forgetWhatOthersMayHaveChanged();
  }

  readAll(afterPosition = -1, options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    return {
      [Symbol.asyncIterator]: () => new PagedReader(this, afterPosition, options.maxCount ?? Infinity),
    };
  }

  subscribe(afterPosition = -1): EventSubscription {
    this.assertOpen();
    const subscription = new SqliteSubscription(this, afterPosition);
    this.subscriptions.add(subscription);
    this.pollTimer ??= setInterval(() => this.poll(), this.pollIntervalMs).unref();
    return subscription;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.selectHead.get() ?? -1;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Appends already accepted are committed, not dropped.
    this.flush();
    for (const subscription of [...this.subscriptions]) await subscription.close();
    this.flush(); // and those made while the subscriptions closed
    this.closed = true;
    await this.checkpointer?.stop();
    this.neighbours.delete(this);
    if (this.neighbours.size === 0) openStores.delete(path.resolve(this.file));
    this.db.close();
  }

  /**
   * Up to `limit` events strictly after `position`, in global order (a page of readAll or a
   * subscription). Live subscriptions read from the tail: every append wakes all of them (a dozen in
   * the API) for the same new events, which the table would otherwise be queried and parsed for again
   * and again. Callers must not change the events they get.
   */
  readPage(position: number, limit: number): RecordedEvent[] {
    this.noticeOtherWriters();
    const tailEnd = this.tailEnd();
    if (position >= this.tailAfter && position <= tailEnd) {
      const from = firstAfter(this.tail, position);
      if (this.tailComplete || this.tail.length - from >= limit) return this.tail.slice(from, from + limit);
    }
    const events = this.selectAfter.all(position, limit).map(toRecordedEvent);
    if (events.length < limit) {
      // Read up to the end of the table: the tail from now on.
      this.tail = events;
      this.tailAfter = position;
      this.tailComplete = true;
    }
    return events;
  }

  get defaultPageSize(): number {
    return this.pageSize;
  }

  /** @internal called by a subscription that has ended. */
  forget(subscription: SqliteSubscription): void {
    this.subscriptions.delete(subscription);
    if (this.subscriptions.size === 0 && this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    }
  }

  /**
   * Commits what is still queued, then wakes the subscriptions once for everything the turn
   * committed: each projection gets the turn's events as one batch.
   */
  private readonly endTurn = (): void => {
    this.turnEnding = false;
    this.flush();
    if (!this.wroteThisTurn) return;
    this.wroteThisTurn = false;
    for (const store of this.neighbours) for (const subscription of store.subscriptions) subscription.wake();
  };

  /** Commits the queued appends in one transaction, then answers their callers. */
  private flush(): void {
    const group = this.queue;
    if (group.length === 0) return;
    this.queue = [];
    this.queuedStreams.clear();
    let outcomes: GroupOutcome[];
    try {
      const [only] = group;
      outcomes =
        group.length === 1 && only
          ? [{ ok: true, result: this.appendAlone(only.stream, only.events, only.expected) }]
          : this.commitGroup(group);
    } catch (error) {
      // Nothing of the group is committed: the tips its appends set are not true.
      this.streamTips.clear();
      for (const append of group) append.reject(error);
      return;
    }
    let written = false;
    const fresh: RecordedEvent[] = [];
    outcomes.forEach((outcome, i) => {
      const append = group[i] as QueuedAppend;
      if (!outcome.ok) return append.reject(outcome.error);
      written ||= outcome.result.written;
      for (const event of outcome.result.events) fresh.push(event);
      append.resolve({ revision: outcome.result.revision, position: outcome.result.position });
    });
    if (!written) return;
    this.wroteThisTurn = true;
    this.extendTail(fresh);
    // The other stores on this file have not seen these events.
    for (const store of this.neighbours) if (store !== this) store.forgetWhatOthersMayHaveChanged();
  }

  /** The position of the tail's last event (tailAfter when it is empty). */
  private tailEnd(): number {
    return this.tail.at(-1)?.position ?? this.tailAfter;
  }

  /**
   * Adds what a commit wrote to the tail when they follow it directly. SQLite gives a new row the
   * largest rowid plus one, so a first position right after the tail's last proves that no other
   * connection's events came in between; otherwise readPage queries the table again.
   */
  private extendTail(fresh: readonly RecordedEvent[]): void {
    const first = fresh[0];
    if (!this.tailComplete || !first || first.position !== this.tailEnd() + 1) {
      // Another connection's events came in between (or the tail was incomplete already).
      if (first && this.tailComplete) this.streamTips.clear();
      this.tailComplete = false;
      return;
    }
    for (const event of fresh) this.tail.push(event);
    // Bounded: a subscription that far behind reads from the table.
    const kept = Math.min(this.pageSize, TAIL_KEPT);
    if (this.tail.length > 2 * kept) {
      const dropped = this.tail.length - kept;
      this.tailAfter = (this.tail[dropped - 1] as RecordedEvent).position;
      this.tail = this.tail.slice(dropped);
    }
  }

  private appendInTransaction(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Written {
    const tip = this.selectTip.get(stream);
    const current = tip ? tip.revision : -1;
    // Read under the write lock, so true: a known tip that differs means another connection appended
    // (readStream would answer from it until the next look, and a retried command conflict again).
    const known = this.streamTips.get(stream);
    if (known !== undefined && known !== current) this.forgetWhatOthersMayHaveChanged();
    const first = events[0];
    // A retry: the first id is already there, so every id must be (then nothing to do, whatever
    // `expected` says), or the batch overlaps history and is refused as a conflict. Checking only the
    // first id keeps the common path to one lookup; UNIQUE(stream, id) catches a later repeat.
    if (first && this.selectById.get(stream, first.id)) {
      let existing: StreamTip | undefined;
      for (const event of events) {
        existing = this.selectById.get(stream, event.id);
        if (!existing) throw new ConcurrencyError(stream, expected, current);
      }
      return { ...(existing as StreamTip), written: false, events: [] };
    }
    if (expected === 'no_stream' ? current !== -1 : expected !== 'any' && expected !== current)
      throw new ConcurrencyError(stream, expected, current === -1 ? 'no_stream' : current);
    if (events.length === 0)
      return { revision: current, position: tip ? tip.position : -1, written: false, events: [] };

    const recordedAt = new Date().toISOString();
    // Live subscriptions get the events from the tail: as the table would give them back.
    const keep = this.subscriptions.size > 0;
    const written: RecordedEvent[] = [];
    let revision = current;
    let position = -1;
    try {
      for (const event of events) {
        revision += 1;
        const data = JSON.stringify(event.data) ?? 'null';
        const metadata = JSON.stringify(event.metadata);
        const info = this.insertEvent.run(
          stream,
          revision,
          event.id,
          event.type,
          event.version,
          data,
          metadata,
          recordedAt,
        );
        position = Number(info.lastInsertRowid);
        if (keep) {
          written.push(
            toRecordedEvent({
              position,
              stream,
              revision,
              id: event.id,
              type: event.type,
              version: event.version,
              data,
              metadata,
              recorded_at: recordedAt,
            }),
          );
        }
      }
    } catch (error) {
      // Only UNIQUE(stream, id) can fail here (revisions are computed under the write lock): a later
      // event of the batch is already in the stream.
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw new ConcurrencyError(stream, expected, current === -1 ? 'no_stream' : current);
      throw error;
    }
    this.setTip(stream, revision);
    return { revision, position, written: true, events: written };
  }

  private poll(): void {
    if (this.closed) return;
    const head = this.selectHead.get() ?? -1;
    // Another process appended.
    if (head > this.tailEnd()) this.forgetWhatOthersMayHaveChanged();
    for (const subscription of this.subscriptions) if (subscription.lastPosition < head) subscription.wake();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }
}

/** What one append did: `events` as recorded, when the store keeps them for its subscriptions. */
type Written = AppendResult & { written: boolean; events: RecordedEvent[] };

type GroupOutcome = { ok: true; result: Written } | { ok: false; error: unknown };

/** Index of the first event after `position` in `events` (ascending positions). */
function firstAfter(events: readonly RecordedEvent[], position: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((events[middle] as RecordedEvent).position <= position) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** readAll: one page in memory at a time; a plain iterator rather than an async generator, for speed. */
class PagedReader implements AsyncIterator<RecordedEvent> {
  private page: RecordedEvent[] = [];
  private index = 0;
  private exhausted = false;

  constructor(
    private readonly store: SqliteEventStore,
    private lastPosition: number,
    private remaining: number,
  ) {}

  next(): Promise<IteratorResult<RecordedEvent>> {
    if (this.index === this.page.length) {
      if (this.exhausted || this.remaining <= 0) return Promise.resolve({ value: undefined, done: true });
      const limit = Math.min(this.store.defaultPageSize, this.remaining);
      this.page = this.store.readPage(this.lastPosition, limit);
      this.index = 0;
      this.remaining -= this.page.length;
      this.exhausted = this.page.length < limit;
      const last = this.page[this.page.length - 1];
      if (!last) return Promise.resolve({ value: undefined, done: true });
      this.lastPosition = last.position;
    }
    return Promise.resolve({ value: this.page[this.index++] as RecordedEvent, done: false });
  }
}

/**
 * A subscription reads pages by position until there is nothing newer, then waits to be woken (by an
 * append in this process, the poll timer, or close). Since every delivery comes from the table in
 * position order after the last delivered position, the catch-up/live boundary cannot duplicate or
 * skip an event.
 */
class SqliteSubscription implements EventSubscription, AsyncIterableIterator<RecordedEvent> {
  private page: RecordedEvent[] = [];
  private index = 0;
  private closed = false;
  private waiters: (() => void)[] = [];
  /**
   * True while next() waits for events not appended yet: everything in the store has been handed
   * out. Set synchronously by the next() call that finds nothing, so a consumer can tell at once that
   * the events it holds are all there is (the projection runner applies its batch then).
   */
  waiting = false;

  constructor(
    private readonly store: SqliteEventStore,
    /** Position of the last event handed out (or the starting point). */
    public lastPosition: number,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<RecordedEvent>> {
    while (!this.closed) {
      const event = this.page[this.index];
      if (event) {
        this.index += 1;
        this.lastPosition = event.position;
        return { value: event, done: false };
      }
      this.page = this.store.readPage(this.lastPosition, this.store.defaultPageSize);
      this.index = 0;
      if (this.page.length > 0) continue;
      // Nothing newer: sleep until woken. No await sits between the empty read and registering the
      // waker, so an append in this process cannot slip in unnoticed.
      this.waiting = true;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      this.waiting = false;
    }
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<RecordedEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  wake(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.page = [];
    this.store.forget(this);
    this.wake();
  }
}
