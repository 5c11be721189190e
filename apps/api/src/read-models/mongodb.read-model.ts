import {
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Document,
  type Filter,
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type Sort,
} from 'mongodb';
import {
  assertCollectionSpecs,
  assertPosition,
  assertUnitOpen,
  CHECKPOINTS_COLLECTION,
  type CheckedQuery,
  checkQuery,
  CollectionRegistry,
  documentJson,
  encodeCursor,
  indexKeys,
  type ReadModelStoreAdapter,
  SerialQueue,
  UnitContext,
} from './read-model.common';
import type {
  CollectionSpec,
  FindQuery,
  IndexValue,
  Page,
  ReadDocument,
  ReadModelWriter,
} from './read-model.port';

/** Used when the connection string names no database. */
export const DEFAULT_MONGODB_DATABASE = 'custos';

const DUPLICATE_KEY = 11000;

/** A read-model document as stored: the JSON document plus the adapter's bookkeeping. */
interface StoredDocument extends Document {
  _id: string;
  /** Position of the unit that wrote it last; writes from older-or-equal positions are skipped. */
  _position: number;
  /** A tombstone: the document was deleted at `_position` (kept so older writes cannot revive it). */
  _deleted?: true;
}

interface CheckpointDocument extends Document {
  _id: string;
  position: number;
}

/** What get and find return: the stored document without the bookkeeping fields. */
const PUBLIC_FIELDS = { _id: 0, _position: 0, _deleted: 0 } as const;
const LIVE: Filter<StoredDocument> = { _deleted: { $ne: true } };

/**
 * Read models in MongoDB: a collection per read model, documents stored with `_id` = `id`, an index
 * per declared field plus `{field: 1, _id: 1}` for sorted pagination, and checkpoints in
 * `_checkpoints`.
 *
 * Atomicity without transactions (as the issue specifies): a unit's writes are buffered while
 * `work` runs, so a throwing unit writes nothing. Then each document is written once, stamped with
 * the unit's position in `_position`, by a guarded upsert that skips documents already at that
 * position or past it; the checkpoint moves last. After a crash mid-unit the unit is applied again,
 * and the documents it had already written are skipped instead of being changed twice. Deletes
 * leave a tombstone at the unit's position rather than removing the document, so that a unit from
 * an older position (a replay, or a second API instance that lags) cannot bring it back.
 *
 * Known limit: the skip is per document, so a replayed unit must cover the same events as the
 * crashed one. A unit spanning events (p, q] that finds a document already stamped with a position
 * r in (p, q) from a crashed unit with other boundaries applies the events up to r to it twice.
 */
export class MongoReadModelStore implements ReadModelStoreAdapter {
  readonly kind = 'mongodb';
  private readonly registry = new CollectionRegistry();
  /** Units of one projection run one at a time; different projections run side by side. */
  private readonly queues = new Map<string, SerialQueue>();
  private readonly units = new UnitContext();
  private readonly checkpoints: Collection<CheckpointDocument>;
  private closed = false;

  /**
   * Connects to `uri`. The database is `options.database`, else the one the URI names, else
   * `custos`.
   */
  static async connect(uri: string, options: { database?: string } = {}): Promise<MongoReadModelStore> {
    const client = new MongoClient(uri, { appName: 'custos-read-models' });
    await client.connect();
    return new MongoReadModelStore(client, client.db(options.database ?? databaseName(uri)));
  }

  constructor(
    private readonly client: MongoClient,
    readonly db: Db,
  ) {
    this.checkpoints = db.collection<CheckpointDocument>(CHECKPOINTS_COLLECTION);
  }

  async register(collections: readonly CollectionSpec[]): Promise<void> {
    this.assertOpen();
    this.units.assertNotInsideUnit('register');
    assertCollectionSpecs(collections);
    for (const spec of collections) {
      const collection = this.collection(spec.name);
      // createIndex is a no-op for an index that exists with the same keys.
      for (const fields of indexKeys(spec)) {
        const keys = Object.fromEntries(fields.map((field) => [field, 1 as const]));
        if (fields.length === 1) await collection.createIndex(keys);
        await collection.createIndex({ ...keys, _id: 1 });
      }
    }
    this.registry.add(collections);
  }

  async get<T extends ReadDocument>(collection: string, id: string): Promise<T | null> {
    this.assertOpen();
    this.registry.assertDocumentId(collection, id);
    const found = await this.collection(collection).findOne(
      { _id: id, ...LIVE },
      { projection: PUBLIC_FIELDS },
    );
    return found as T | null;
  }

  async find<T extends ReadDocument>(collection: string, query?: FindQuery): Promise<Page<T>> {
    this.assertOpen();
    const checked = checkQuery(collection, this.registry.indexes(collection), query);
    const { field, direction } = checked.sort;
    const order = direction === 'asc' ? 1 : -1;
    const sort: Sort = field === 'id' ? { _id: order } : { [field]: order, _id: order };
    // One document more than the page tells whether there is a next page.
    const found = (await this.collection(collection)
      .find(findFilter(checked), { projection: PUBLIC_FIELDS })
      .sort(sort)
      .limit(checked.limit + 1)
      .toArray()) as unknown as T[];
    const items = found.slice(0, checked.limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        found.length > checked.limit && last
          ? encodeCursor(checked.sort, field === 'id' ? last.id : sortValue(last[field]), last.id)
          : null,
    };
  }

  async applyAtomically(
    projection: string,
    position: number,
    work: (writer: ReadModelWriter) => Promise<void>,
  ): Promise<boolean> {
    this.assertOpen();
    assertPosition(position);
    this.units.assertNotInsideUnit(`applyAtomically for "${projection}"`);
    return this.queue(projection).run(() =>
      this.units.run(projection, () => this.runUnit(projection, position, work)),
    );
  }

  private async runUnit(
    projection: string,
    position: number,
    work: (writer: ReadModelWriter) => Promise<void>,
  ): Promise<boolean> {
    if ((await this.checkpoint(projection)) >= position) return false;

    // collection → id → the document's JSON, or null for a delete: the unit's final word on each.
    const pending = new Map<string, Map<string, string | null>>();
    const pendingIn = (collection: string) => {
      let documents = pending.get(collection);
      if (!documents) pending.set(collection, (documents = new Map()));
      return documents;
    };
    let open = true;
    const writer: ReadModelWriter = {
      get: async <T extends ReadDocument>(collection: string, id: string) => {
        assertUnitOpen(open, projection);
        const buffered = pending.get(collection)?.get(id);
        if (buffered === undefined) return this.get<T>(collection, id);
        return buffered === null ? null : (JSON.parse(buffered) as T);
      },
      upsert: async (collection, document) => {
        assertUnitOpen(open, projection);
        this.registry.indexes(collection);
        pendingIn(collection).set(document.id, documentJson(collection, document));
      },
      delete: async (collection, id) => {
        assertUnitOpen(open, projection);
        this.registry.assertDocumentId(collection, id);
        pendingIn(collection).set(id, null);
      },
    };
    try {
      await work(writer);
    } finally {
      open = false;
    }

    await Promise.all(
      [...pending].map(([collection, documents]) =>
        guardedBulkWrite(
          this.collection(collection),
          [...documents].map(([id, json]) =>
            guardedReplace(
              id,
              position,
              json === null
                ? { _position: position, _deleted: true }
                : { ...(JSON.parse(json) as ReadDocument), _position: position },
            ),
          ),
        ),
      ),
    );
    await retryDuplicateKeyOnce(() =>
      this.checkpoints.updateOne(
        { _id: projection, ...olderThan('position', position) },
        { $set: { position } },
        { upsert: true },
      ),
    );
    return true;
  }

  async checkpoint(projection: string): Promise<number> {
    this.assertOpen();
    const found = await this.checkpoints.findOne({ _id: projection });
    return found?.position ?? -1;
  }

  async reset(projection: string, collections: readonly string[]): Promise<void> {
    this.assertOpen();
    this.units.assertNotInsideUnit('reset');
    for (const collection of collections) this.registry.indexes(collection);
    await this.queue(projection).run(async () => {
      // Documents (tombstones included) first: leftovers would block a rebuild's writes by their
      // position, so the checkpoint goes only once they are gone, and a failed reset is run again.
      for (const collection of collections) await this.collection(collection).deleteMany({});
      await this.checkpoints.deleteOne({ _id: projection });
    });
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.db.command({ ping: 1 });
  }

  /** Waits for queued units, then closes the connection. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.queues.values()].map((queue) => queue.drained()));
    await this.client.close();
  }

  private collection(name: string): Collection<StoredDocument> {
    return this.db.collection<StoredDocument>(name);
  }

  private queue(projection: string): SerialQueue {
    let queue = this.queues.get(projection);
    if (!queue) this.queues.set(projection, (queue = new SerialQueue()));
    return queue;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('read models: the MongoDB store is closed');
  }
}

/** The database a connection string names (the path after the hosts), or the default. */
export function databaseName(uri: string): string {
  const afterScheme = uri.replace(/^mongodb(\+srv)?:\/\//, '').split('?')[0] ?? '';
  const slash = afterScheme.indexOf('/');
  const name = slash < 0 ? '' : decodeURIComponent(afterScheme.slice(slash + 1));
  return name.length > 0 ? name : DEFAULT_MONGODB_DATABASE;
}

function olderThan(field: '_position' | 'position', position: number) {
  return { $or: [{ [field]: { $lt: position } }, { [field]: { $exists: false } }] };
}

/**
 * Replaces the document unless it is already at `position` or past it. Then the filter matches
 * nothing, the upsert tries to insert the same `_id` and fails with a duplicate key: that failure is
 * the skip.
 */
function guardedReplace(
  id: string,
  position: number,
  replacement: Omit<StoredDocument, '_id'>,
): AnyBulkWriteOperation<StoredDocument> {
  return {
    replaceOne: {
      filter: { _id: id, ...olderThan('_position', position) } as Filter<StoredDocument>,
      replacement,
      upsert: true,
    },
  };
}

/**
 * Runs guarded upserts, treating duplicate keys as skips. A duplicate key on the first try can also
 * mean another writer inserted the document between our filter and our insert, so those operations
 * are tried once more: now the document exists, and the retry either replaces it (ours is newer) or
 * fails the same way (it is at our position or past it).
 */
async function guardedBulkWrite(
  collection: Collection<StoredDocument>,
  operations: AnyBulkWriteOperation<StoredDocument>[],
): Promise<void> {
  let remaining = operations;
  for (let attempt = 0; attempt < 2 && remaining.length > 0; attempt += 1) {
    try {
      await collection.bulkWrite(remaining, { ordered: false });
      return;
    } catch (error) {
      const tried = remaining;
      remaining = duplicateKeyIndexes(error).flatMap((index) => tried[index] ?? []);
    }
  }
}

/** The indexes of the operations that failed with a duplicate key; rethrows any other failure. */
function duplicateKeyIndexes(error: unknown): number[] {
  if (!(error instanceof MongoBulkWriteError) || error.result?.getWriteConcernError()) throw error;
  const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  if (writeErrors.length === 0 || writeErrors.some((writeError) => writeError.code !== DUPLICATE_KEY))
    throw error;
  return writeErrors.map((writeError) => writeError.index);
}

async function retryDuplicateKeyOnce(write: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await write();
      return;
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== DUPLICATE_KEY) throw error;
    }
  }
}

/** A missing field sorts as null, as in SQLite. */
function sortValue(value: unknown): IndexValue {
  return value === undefined ? null : (value as IndexValue);
}

function findFilter(query: CheckedQuery): Filter<StoredDocument> {
  const key = (field: string) => (field === 'id' ? '_id' : field);
  const clauses: Filter<StoredDocument>[] = [LIVE];
  for (const [field, value] of query.where) clauses.push({ [key(field)]: value });
  if (query.range) {
    const { field, gte, lt } = query.range;
    if (gte !== undefined || lt !== undefined)
      clauses.push({
        [key(field)]: { ...(gte !== undefined && { $gte: gte }), ...(lt !== undefined && { $lt: lt }) },
      });
  }
  if (query.after) clauses.push(afterFilter(query));
  return { $and: clauses };
}

/**
 * Items strictly after the cursor in (sort value, _id) order. Null and missing values sort first
 * ascending and last descending; comparisons ($gt, $lt) only match values of the cursor value's type,
 * so a sorted field should hold one type (or null).
 */
function afterFilter({ sort, after }: CheckedQuery): Filter<StoredDocument> {
  if (!after) return {};
  const past = sort.direction === 'asc' ? '$gt' : '$lt';
  if (sort.field === 'id') return { _id: { [past]: after.id } };
  const field = sort.field;
  if (after.value === null)
    return sort.direction === 'asc'
      ? { $or: [{ [field]: null, _id: { $gt: after.id } }, { [field]: { $ne: null } }] }
      : { [field]: null, _id: { $lt: after.id } };
  const beyond: Filter<StoredDocument>[] = [
    { [field]: { [past]: after.value } },
    { [field]: after.value, _id: { [past]: after.id } },
  ];
  if (sort.direction === 'desc') beyond.push({ [field]: null });
  return { $or: beyond };
}
