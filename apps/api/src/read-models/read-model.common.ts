/**
 * What the read-model adapters share: name validation, the registry of declared indexes, query
 * validation, opaque cursors, document normalisation and the serialising of atomic units.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type CollectionSpec,
  type FindQuery,
  type IndexValue,
  InvalidQueryError,
  type ReadDocument,
  type ReadModelStore,
} from './read-model.port';

/** What the factory returns: the port plus what the module needs for /health and logs. */
export interface ReadModelStoreAdapter extends ReadModelStore {
  readonly kind: 'sqlite' | 'mongodb';
  /** Resolves when the store answers a trivial read; rejects otherwise. */
  ping(): Promise<void>;
}

/** Collection and field names become SQL identifiers and MongoDB keys: only plain identifiers pass. */
const IDENTIFIER = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Top-level document fields the MongoDB adapter uses for its own bookkeeping (refused in both adapters). */
export const RESERVED_FIELDS: ReadonlySet<string> = new Set(['_id', '_position', '_deleted']);
/** Collection name the MongoDB adapter keeps checkpoints in (refused in both adapters). */
export const CHECKPOINTS_COLLECTION = '_checkpoints';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export function assertIdentifier(kind: 'collection' | 'index field', name: string): void {
  if (typeof name !== 'string' || !IDENTIFIER.test(name))
    throw new Error(`read models: ${kind} name ${JSON.stringify(name)} is not a plain identifier`);
  if (kind === 'collection' && name === CHECKPOINTS_COLLECTION)
    throw new Error(`read models: collection name "${name}" is reserved`);
  if (kind === 'index field' && RESERVED_FIELDS.has(name))
    throw new Error(`read models: field name "${name}" is reserved`);
}

/** Checks collection and index names before an adapter creates anything. */
export function assertCollectionSpecs(specs: readonly CollectionSpec[]): void {
  for (const spec of specs) {
    assertIdentifier('collection', spec.name);
    for (const field of spec.indexes) assertIdentifier('index field', field);
    for (const fields of spec.compoundIndexes ?? []) {
      const named = `read models: compound index [${fields.join(', ')}] of "${spec.name}"`;
      if (fields.length < 2) throw new Error(`${named} needs at least two fields`);
      if (new Set(fields).size !== fields.length) throw new Error(`${named} repeats a field`);
      for (const field of fields) {
        assertIdentifier('index field', field);
        if (field === 'id') throw new Error(`${named}: "id" ends every index already`);
      }
    }
  }
}

/** The fields each registered collection may be queried on (`id` is always queryable and never listed). */
export class CollectionRegistry {
  private readonly collections = new Map<string, Set<string>>();

  /**
   * Records specs whose tables and indexes exist. Index sets add up: registering again never drops
   * an index, so two projections sharing a collection cannot break each other's queries.
   */
  add(specs: readonly CollectionSpec[]): void {
    for (const spec of specs) {
      const known = this.collections.get(spec.name) ?? new Set<string>();
      for (const field of spec.indexes) if (field !== 'id') known.add(field);
      for (const fields of spec.compoundIndexes ?? []) for (const field of fields) known.add(field);
      this.collections.set(spec.name, known);
    }
  }

  /** The queryable fields of a registered collection (single and compound indexes); throws for one never registered. */
  indexes(collection: string): ReadonlySet<string> {
    const indexes = this.collections.get(collection);
    if (!indexes) throw new Error(`read models: collection "${collection}" is not registered`);
    return indexes;
  }

  /** Throws unless `collection` is registered and `id` can name a document in it (get, delete). */
  assertDocumentId(collection: string, id: unknown): void {
    this.indexes(collection);
    assertId(collection, id);
  }
}

/**
 * The indexes a spec needs, each a list of fields (`id`, the tie-breaker of every sort, is appended by
 * the adapters): one per index field (`id` has the primary key), then the compound ones.
 */
export function indexKeys(spec: CollectionSpec): string[][] {
  const single = [...new Set(spec.indexes)].filter((field) => field !== 'id').map((field) => [field]);
  return [...single, ...(spec.compoundIndexes ?? []).map((fields) => [...fields])];
}

export type SortDirection = 'asc' | 'desc';

/** A FindQuery checked against the collection's indexes, with defaults applied. */
export interface CheckedQuery {
  where: [field: string, value: IndexValue][];
  range: { field: string; gte?: string | number; lt?: string | number } | null;
  sort: { field: string; direction: SortDirection };
  limit: number;
  /** Where the previous page ended: items strictly after (value, id) in sort order. */
  after: { value: IndexValue; id: string } | null;
}

/** Validates a query against the declared indexes; every problem is an InvalidQueryError naming it. */
export function checkQuery(
  collection: string,
  indexes: ReadonlySet<string>,
  query: FindQuery = {},
): CheckedQuery {
  const queryable = (field: unknown, role: string): string => {
    if (typeof field !== 'string' || (field !== 'id' && !indexes.has(field)))
      throw new InvalidQueryError(
        `${role} field ${JSON.stringify(field)} is not an index of collection "${collection}" ` +
          `(indexes: ${['id', ...indexes].join(', ')})`,
      );
    return field;
  };

  const where: [string, IndexValue][] = [];
  for (const [field, value] of Object.entries(query.where ?? {})) {
    queryable(field, 'where');
    if (!isIndexValue(value))
      throw new InvalidQueryError(
        `where value of "${field}" must be a string, finite number, boolean or null`,
      );
    where.push([field, value]);
  }

  let range: CheckedQuery['range'] = null;
  if (query.range !== undefined) {
    const field = queryable(query.range.field, 'range');
    for (const bound of ['gte', 'lt'] as const) {
      const value = query.range[bound];
      if (value !== undefined && !isRangeBound(value))
        throw new InvalidQueryError(`range ${bound} of "${field}" must be a string or a finite number`);
    }
    range = { field, gte: query.range.gte, lt: query.range.lt };
  }

  const sort = { field: 'id', direction: 'asc' as SortDirection };
  if (query.sort !== undefined) {
    sort.field = queryable(query.sort.field, 'sort');
    if (query.sort.direction !== 'asc' && query.sort.direction !== 'desc')
      throw new InvalidQueryError(
        `sort direction must be "asc" or "desc" (got ${JSON.stringify(query.sort.direction)})`,
      );
    sort.direction = query.sort.direction;
  }

  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw new InvalidQueryError(`limit must be a whole number from 1 to ${MAX_LIMIT} (got ${String(limit)})`);

  const after = query.cursor === undefined ? null : decodeCursor(query.cursor, sort);
  return { where, range, sort, limit, after };
}

function isIndexValue(value: unknown): value is IndexValue {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || Number.isFinite(value);
}

function isRangeBound(value: unknown): value is string | number {
  return typeof value === 'string' || Number.isFinite(value);
}

/**
 * A cursor names the sort it was made for, so that reusing it with another sort fails loudly
 * instead of silently skipping or repeating items.
 */
interface CursorContent {
  /** sort field */
  f: string;
  /** sort direction */
  d: SortDirection;
  /** the last item's sort value, as the adapter compares it */
  v: IndexValue;
  /** the last item's id */
  i: string;
}

export function encodeCursor(sort: CheckedQuery['sort'], value: IndexValue, id: string): string {
  const content: CursorContent = { f: sort.field, d: sort.direction, v: value, i: id };
  return Buffer.from(JSON.stringify(content), 'utf8').toString('base64url');
}

function decodeCursor(cursor: unknown, sort: CheckedQuery['sort']): { value: IndexValue; id: string } {
  let content: Partial<CursorContent> | null = null;
  if (typeof cursor === 'string' && /^[A-Za-z0-9_-]+$/.test(cursor)) {
    try {
      content = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorContent>;
    } catch {
      content = null;
    }
  }
  if (
    content === null ||
    typeof content !== 'object' ||
    typeof content.i !== 'string' ||
    typeof content.f !== 'string' ||
    (content.d !== 'asc' && content.d !== 'desc') ||
    !isIndexValue(content.v)
  )
    throw new InvalidQueryError('cursor is not a cursor this API returned');
  if (content.f !== sort.field || content.d !== sort.direction)
    throw new InvalidQueryError(
      `cursor was made for sort ${content.f} ${content.d}, not ${sort.field} ${sort.direction}`,
    );
  return { value: content.v, id: content.i };
}

/**
 * Checks a document a projection writes and returns its JSON text (undefined fields dropped, Dates
 * as ISO strings), so both adapters store exactly what JSON can say.
 */
export function documentJson(collection: string, document: ReadDocument): string {
  if (document === null || typeof document !== 'object' || Array.isArray(document))
    throw new Error(`read models: a document of "${collection}" must be an object`);
  assertId(collection, document.id);
  for (const field of RESERVED_FIELDS)
    if (field in document)
      throw new Error(
        `read models: document ${document.id} of "${collection}" uses reserved field "${field}"`,
      );
  return JSON.stringify(document);
}

export function assertId(collection: string, id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0)
    throw new Error(`read models: an id in "${collection}" must be a non-empty string`);
}

export function assertPosition(position: number): void {
  if (!Number.isSafeInteger(position) || position < 0)
    throw new Error(`read models: a unit's position must be a whole number ≥ 0 (got ${String(position)})`);
}

/** Runs tasks one after another, in call order; a failing task does not stop the ones after it. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every task queued so far has settled. */
  async drained(): Promise<void> {
    await this.tail;
  }
}

/**
 * Marks the async context of a running unit: an applyAtomically, register or reset called from
 * inside `work` would wait forever for the unit it is part of, so it is refused instead.
 *
 * The AsyncLocalStorage is switched on only while a unit runs: while any is on, Node tracks the
 * context of every promise in the process, and that made a whole request ~15% dearer (bench:api,
 * credentials). A call from inside a unit can only happen while it runs, so nothing is missed.
 */
export class UnitContext {
  private readonly storage = new AsyncLocalStorage<string>();
  private running = 0;

  async run<T>(projection: string, task: () => Promise<T>): Promise<T> {
    this.running += 1;
    try {
      return await this.storage.run(projection, task);
    } finally {
      this.running -= 1;
      if (this.running === 0) this.storage.disable();
    }
  }

  /** `what` names the call, e.g. 'applyAtomically for "consents"' or 'reset'. */
  assertNotInsideUnit(what: string): void {
    const outer = this.storage.getStore();
    if (outer !== undefined)
      throw new Error(
        `read models: ${what} was called inside a unit of "${outer}"; it would wait for that unit forever`,
      );
  }
}

/** A writer that refuses to be used once its unit has ended (work that forgot an await). */
export function assertUnitOpen(open: boolean, projection: string): void {
  if (!open) throw new Error(`read models: a writer of "${projection}" was used after its unit ended`);
}
