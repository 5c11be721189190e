/**
 * The read-model port: collections of JSON documents that projections write and queries read.
 * Adapters: SQLite (embedded default) and MongoDB; both pass `read-model.conformance.ts`.
 *
 * Only projections write, and only through `applyAtomically`, which moves the projection's checkpoint
 * together with its writes so a crash never applies an event twice.
 */

/**
 * A stored document: any JSON object with a non-empty string `id`. It is stored as JSON (undefined
 * fields dropped, Dates as ISO strings); top-level `_id`, `_position` and `_deleted` are reserved.
 */
export type ReadDocument = { id: string } & Record<string, unknown>;

export type IndexValue = string | number | boolean | null;

export interface CollectionSpec {
  /** A plain identifier (/^[a-zA-Z_][a-zA-Z0-9_]*$/) other than `_checkpoints`; so are index fields. */
  name: string;
  /** Top-level fields that queries may filter (equality or range) and sort on, each with an index of its own. */
  indexes: readonly string[];
  /**
   * Indexes over several fields, in order: the fields a query matches by equality first, the field it
   * sorts or ranges on last. A query that filters on one field and sorts on another reads just its page
   * through such an index; with single-field indexes it reads every document matching the filter, so
   * its cost grows with the collection (a conversation's feed, a patient's requests). Their fields are
   * queryable too: a field only ever filtered on together with another's sort needs no index of its own
   * (each index is one more B-tree written per document).
   */
  compoundIndexes?: readonly (readonly string[])[];
}

export interface FindQuery {
  /** Equality on indexed fields, all of which must match; `null` also matches a missing field. */
  where?: Readonly<Record<string, IndexValue>>;
  /** A range on one indexed field (ISO timestamps compare as strings). */
  range?: { field: string; gte?: string | number; lt?: string | number };
  /**
   * Sort on an indexed field; ties are broken by `id` in the same direction. Default: `id` ascending.
   * Null and missing values come first ascending, last descending; a sorted field should hold one JSON
   * type (MongoDB compares values of one type only).
   */
  sort?: { field: string; direction: 'asc' | 'desc' };
  /** Page size, 1..1000; default 100. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/**
 * A query named a field that is not an index of the collection, a bad value, limit or cursor, or a
 * cursor made for another sort. Maps to HTTP 400.
 */
export class InvalidQueryError extends Error {
  override readonly name = 'InvalidQueryError';
}

/** Writes a projection makes inside one atomic unit. */
export interface ReadModelWriter {
  get<T extends ReadDocument>(collection: string, id: string): Promise<T | null>;
  upsert(collection: string, document: ReadDocument): Promise<void>;
  delete(collection: string, id: string): Promise<void>;
}

export interface ReadModelStore {
  /**
   * Creates the collections and their indexes if missing (idempotent). The SQLite store also drops the
   * indexes it made for a collection that its spec no longer lists; in MongoDB those are left for an
   * operator to drop (a shared production database may hold indexes of its own).
   */
  register(collections: readonly CollectionSpec[]): Promise<void>;
  get<T extends ReadDocument>(collection: string, id: string): Promise<T | null>;
  find<T extends ReadDocument>(collection: string, query?: FindQuery): Promise<Page<T>>;
  /**
   * Runs `work` for `projection` and moves its checkpoint to `position`, atomically: either all of it
   * lands or none. Returns false without running `work` when the checkpoint is already at or past
   * `position` (the events were applied before).
   */
  applyAtomically(
    projection: string,
    position: number,
    work: (writer: ReadModelWriter) => Promise<void>,
  ): Promise<boolean>;
  /** The position the projection has applied up to, or -1 when it has applied nothing. */
  checkpoint(projection: string): Promise<number>;
  /** Empties the collections and the projection's checkpoint, for a rebuild from zero. */
  reset(projection: string, collections: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
