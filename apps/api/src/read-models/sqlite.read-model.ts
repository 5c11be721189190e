import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ForeignCommits } from '../sqlite/foreign-commits';
import { checkpointInBackground, type WalCheckpointer } from '../sqlite/wal-checkpointer';
import { DocumentCache } from './document-cache';
import {
  assertCollectionSpecs,
  assertPosition,
  type CheckedQuery,
  checkQuery,
  CollectionRegistry,
  documentJson,
  encodeCursor,
  indexKeys,
  type ReadModelStoreAdapter,
  SerialQueue,
  UnitContext,
  assertUnitOpen,
} from './read-model.common';
import type {
  CollectionSpec,
  FindQuery,
  IndexValue,
  Page,
  ReadDocument,
  ReadModelWriter,
} from './read-model.port';

export const SQLITE_READ_MODELS_FILE = 'read-models.sqlite';
/** The JSON text of documents read lately that `get` keeps in memory (see DocumentCache). */
const DOCUMENT_CACHE_BYTES = 16 * 1024 * 1024;

type SqlValue = string | number | null;

interface FoundRow {
  id: string;
  doc: string;
  sort_key: SqlValue;
}

/**
 * Read models in one SQLite file: a table per collection (`id`, `doc` as JSON text) with an
 * expression index `(json_extract(doc, '$.field'), id)` per declared index, and a `checkpoints`
 * table. Units are real transactions.
 *
 * Two connections: units write through one while the other serves `get`, `find` and `checkpoint`.
 * A unit's transaction stays open across the awaits inside `work`, and on a single connection any
 * read made meanwhile (a query handler) would see its uncommitted writes; with WAL the read
 * connection sees only committed data.
 *
 * `get` answers from a DocumentCache of committed documents when it can. Units update it when they
 * commit; a commit by another connection (another process on the same file) moves the write
 * connection's `PRAGMA data_version`, checked once per turn of the event loop (the check itself costs
 * a read transaction), and empties it. So a read sees every commit of this process at once and those
 * of another by the next turn.
 */
export class SqliteReadModelStore implements ReadModelStoreAdapter {
  readonly kind = 'sqlite';
  private readonly writeDb: Database.Database;
  private readonly readDb: Database.Database;
  private readonly registry = new CollectionRegistry();
  /** The indexes registered per collection, by name (see register). */
  private readonly declaredIndexes = new Map<string, Set<string>>();
  /** SQLite has one writer: units, registrations and resets run one at a time, in call order. */
  private readonly queue = new SerialQueue();
  private readonly units = new UnitContext();
  private readonly writeStatements = new Map<string, Database.Statement>();
  private readonly readStatements = new Map<string, Database.Statement>();
  private readonly documents = new DocumentCache(DOCUMENT_CACHE_BYTES);
  private readonly otherWriters: ForeignCommits;
  private readonly checkpointer: WalCheckpointer;
  private closed = false;

  /** Opens (creating if needed) `read-models.sqlite` in `dataDir`. */
  static open(dataDir: string): SqliteReadModelStore {
    return new SqliteReadModelStore(path.join(dataDir, SQLITE_READ_MODELS_FILE));
  }

  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.writeDb = new Database(file);
    try {
      this.writeDb.pragma('journal_mode = WAL');
      this.writeDb.pragma('synchronous = NORMAL');
      this.writeDb.pragma('busy_timeout = 5000');
      this.writeDb.exec(
        'CREATE TABLE IF NOT EXISTS checkpoints (projection TEXT PRIMARY KEY, position INTEGER NOT NULL)',
      );
      this.readDb = new Database(file);
    } catch (error) {
      this.writeDb.close();
      throw error;
    }
    this.readDb.pragma('busy_timeout = 5000');
    this.readDb.pragma('query_only = ON');
    this.otherWriters = new ForeignCommits(this.writeDb);
    // Every gate decision is an audit entry, so a unit here; checkpointing inside those commits
    // (SQLite's default) stalled the event loop ~9 ms every ~150 ms under load. A thread does it
    // instead, and this connection starts the WAL over when the thread says it is past its limit,
    // between units (a thread that did that itself made this store's reads and commits sleep).
    this.checkpointer = checkpointInBackground(this.writeDb, file, (restart) => {
      void this.queue.run(async () => restart());
    });
  }

  async register(collections: readonly CollectionSpec[]): Promise<void> {
    this.assertOpen();
    this.units.assertNotInsideUnit('register');
    assertCollectionSpecs(collections);
    await this.queue.run(async () => {
      this.writeDb.transaction(() => {
        for (const spec of collections) {
          const table = tableName(spec.name);
          this.writeDb.exec(`CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY, doc TEXT NOT NULL)`);
          const declared = this.declaredIndexes.get(spec.name) ?? new Set<string>();
          this.declaredIndexes.set(spec.name, declared);
          for (const fields of indexKeys(spec)) {
            const index = `rm_${spec.name}.${fields.join('+')}`;
            declared.add(index);
            this.writeDb.exec(
              `CREATE INDEX IF NOT EXISTS "${index}" ON ${table} (${fields.map(fieldSql).join(', ')}, id)`,
            );
          }
          // An index this store made that no spec lists any more (a file written by an earlier build)
          // would still be written with every document: dropped.
          const existing = this.writeDb
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?")
            .pluck()
            .all(`rm_${spec.name}`) as string[];
          for (const index of existing)
            if (index.startsWith(`rm_${spec.name}.`) && !declared.has(index))
              this.writeDb.exec(`DROP INDEX "${index}"`);
        }
      })();
      this.registry.add(collections);
    });
  }

  async get<T extends ReadDocument>(collection: string, id: string): Promise<T | null> {
    this.assertOpen();
    this.registry.assertDocumentId(collection, id);
    this.noticeOtherWriters();
    let json = this.documents.get(collection, id);
    if (json === undefined) {
      json = this.jsonIn(this.readDb, this.readStatements, collection, id);
      this.documents.set(collection, id, json);
    }
    return json === null ? null : (JSON.parse(json) as T);
  }

  async find<T extends ReadDocument>(collection: string, query?: FindQuery): Promise<Page<T>> {
    this.assertOpen();
    const checked = checkQuery(collection, this.registry.indexes(collection), query);
    // One row more than the page tells whether there is a next page.
    const wanted = checked.limit + 1;
    const rows: FoundRow[] = [];
    // One read transaction: the segments see the same snapshot.
    this.readDb.transaction(() => {
      for (const segment of findSegments(collection, checked)) {
        const statement = this.statement(this.readDb, this.readStatements, segment.sql);
        rows.push(...(statement.all(...segment.params, wanted - rows.length) as FoundRow[]));
        if (rows.length >= wanted) break;
      }
    })();
    const pageRows = rows.slice(0, checked.limit);
    const last = pageRows.at(-1);
    return {
      items: pageRows.map((row) => JSON.parse(row.doc) as T),
      nextCursor:
        rows.length > checked.limit && last ? encodeCursor(checked.sort, last.sort_key, last.id) : null,
    };
  }

  /** SQLite's plan for a find, one step a line: lets tests check that the expression indexes are used. */
  queryPlan(collection: string, query?: FindQuery): string {
    const checked = checkQuery(collection, this.registry.indexes(collection), query);
    return findSegments(collection, checked)
      .flatMap((segment) =>
        (
          this.readDb.prepare(`EXPLAIN QUERY PLAN ${segment.sql}`).all(...segment.params, 1) as {
            detail: string;
          }[]
        ).map((step) => step.detail),
      )
      .join('\n');
  }

  async applyAtomically(
    projection: string,
    position: number,
    work: (writer: ReadModelWriter) => Promise<void>,
  ): Promise<boolean> {
    this.assertOpen();
    assertPosition(position);
    this.units.assertNotInsideUnit(`applyAtomically for "${projection}"`);
    return this.queue.run(() => this.units.run(projection, () => this.runUnit(projection, position, work)));
  }

  private async runUnit(
    projection: string,
    position: number,
    work: (writer: ReadModelWriter) => Promise<void>,
  ): Promise<boolean> {
    const db = this.writeDb;
    // IMMEDIATE takes the write lock now, so the checkpoint read below cannot go stale.
    db.exec('BEGIN IMMEDIATE');
    let open = true;
    /** What the unit wrote, in order, for the DocumentCache once it commits. */
    const changes: [collection: string, id: string, json: string | null][] = [];
    try {
      if (this.checkpointIn(db, this.writeStatements, projection) >= position) {
        open = false;
        db.exec('ROLLBACK');
        return false;
      }
      const writer: ReadModelWriter = {
        get: async <T extends ReadDocument>(collection: string, id: string) => {
          assertUnitOpen(open, projection);
          this.registry.assertDocumentId(collection, id);
          const json = this.jsonIn(db, this.writeStatements, collection, id);
          return json === null ? null : (JSON.parse(json) as T);
        },
        upsert: async (collection, document) => {
          assertUnitOpen(open, projection);
          this.registry.indexes(collection);
          const json = documentJson(collection, document);
          this.statement(
            db,
            this.writeStatements,
            `INSERT INTO ${tableName(collection)} (id, doc) VALUES (?, ?) ` +
              'ON CONFLICT(id) DO UPDATE SET doc = excluded.doc',
          ).run(document.id, json);
          changes.push([collection, document.id, json]);
        },
        delete: async (collection, id) => {
          assertUnitOpen(open, projection);
          this.registry.assertDocumentId(collection, id);
          this.statement(db, this.writeStatements, `DELETE FROM ${tableName(collection)} WHERE id = ?`).run(
            id,
          );
          changes.push([collection, id, null]);
        },
      };
      await work(writer);
      open = false;
      this.statement(
        db,
        this.writeStatements,
        'INSERT INTO checkpoints (projection, position) VALUES (?, ?) ' +
          'ON CONFLICT(projection) DO UPDATE SET position = excluded.position',
      ).run(projection, position);
      db.exec('COMMIT');
      for (const [collection, id, json] of changes) this.documents.changed(collection, id, json);
      return true;
    } catch (error) {
      open = false;
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  async checkpoint(projection: string): Promise<number> {
    this.assertOpen();
    return this.checkpointIn(this.readDb, this.readStatements, projection);
  }

  async reset(projection: string, collections: readonly string[]): Promise<void> {
    this.assertOpen();
    this.units.assertNotInsideUnit('reset');
    for (const collection of collections) this.registry.indexes(collection);
    await this.queue.run(async () => {
      this.writeDb.transaction(() => {
        for (const collection of collections) this.writeDb.exec(`DELETE FROM ${tableName(collection)}`);
        this.statement(
          this.writeDb,
          this.writeStatements,
          'DELETE FROM checkpoints WHERE projection = ?',
        ).run(projection);
      })();
      this.documents.clear();
    });
  }

  async ping(): Promise<void> {
    this.assertOpen();
    this.statement(this.readDb, this.readStatements, 'SELECT 1').get();
  }

  /** Waits for queued units, then closes both connections. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.drained();
    // Lets SQLite gather the statistics that help it pick between indexes (cheap when nothing changed).
    this.writeDb.pragma('optimize');
    await this.checkpointer.stop();
    this.readDb.close();
    this.writeDb.close();
    this.documents.clear();
  }

  /** A document's JSON as `db` sees it, `null` when there is none. */
  private jsonIn(
    db: Database.Database,
    cache: Map<string, Database.Statement>,
    collection: string,
    id: string,
  ): string | null {
    const row = this.statement(db, cache, `SELECT doc FROM ${tableName(collection)} WHERE id = ?`).get(id) as
      { doc: string } | undefined;
    return row ? row.doc : null;
  }

  /** Empties the DocumentCache when another connection committed since the last turn's look. */
  private noticeOtherWriters(): void {
    if (this.otherWriters.happened()) this.documents.clear();
  }

  private checkpointIn(
    db: Database.Database,
    cache: Map<string, Database.Statement>,
    projection: string,
  ): number {
    const row = this.statement(db, cache, 'SELECT position FROM checkpoints WHERE projection = ?').get(
      projection,
    ) as { position: number } | undefined;
    return row?.position ?? -1;
  }

  private statement(db: Database.Database, cache: Map<string, Database.Statement>, sql: string) {
    let statement = cache.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('read models: the SQLite store is closed');
  }
}

/** Names are checked identifiers (see assertIdentifier); the prefix keeps them apart from `checkpoints`. */
function tableName(collection: string): string {
  return `"rm_${collection}"`;
}

/** The exact expression the index is built on: SQLite uses an expression index only for the same text. */
function fieldSql(field: string): string {
  return field === 'id' ? 'id' : `json_extract(doc, '$.${field}')`;
}

/** json_extract gives 1/0 for JSON true/false, and better-sqlite3 binds no booleans. */
function sqlValue(value: IndexValue): SqlValue {
  return typeof value === 'boolean' ? Number(value) : value;
}

interface SegmentQuery {
  sql: string;
  /** Parameters before the LIMIT, which find appends. */
  params: SqlValue[];
}

/**
 * A find in sort order is up to two index-friendly queries run one after the other: rows whose sort
 * value is NULL (ordered by id) and rows with a value (ordered by value, id). NULLs come first
 * ascending and last descending, as in MongoDB. Splitting them keeps every page a seek in the
 * `(value, id)` index: one query with `... OR value IS NULL` would make SQLite scan from the start.
 */
function findSegments(collection: string, query: CheckedQuery): SegmentQuery[] {
  const base: string[] = [];
  const baseParams: SqlValue[] = [];
  for (const [field, value] of query.where) {
    if (value === null) base.push(`${fieldSql(field)} IS NULL`);
    else {
      base.push(`${fieldSql(field)} = ?`);
      baseParams.push(sqlValue(value));
    }
  }
  if (query.range?.gte !== undefined) {
    base.push(`${fieldSql(query.range.field)} >= ?`);
    baseParams.push(query.range.gte);
  }
  if (query.range?.lt !== undefined) {
    base.push(`${fieldSql(query.range.field)} < ?`);
    baseParams.push(query.range.lt);
  }

  const { field, direction } = query.sort;
  const dir = direction === 'asc' ? 'ASC' : 'DESC';
  const past = direction === 'asc' ? '>' : '<';
  const sortSql = fieldSql(field);
  const segment = (conditions: string[], params: SqlValue[], order: string): SegmentQuery => {
    const all = [...base, ...conditions];
    return {
      sql:
        `SELECT id, doc, ${sortSql} AS sort_key FROM ${tableName(collection)}` +
        (all.length > 0 ? ` WHERE ${all.join(' AND ')}` : '') +
        ` ORDER BY ${order} LIMIT ?`,
      params: [...baseParams, ...params],
    };
  };
  const after = query.after;

  if (field === 'id') {
    return [after ? segment([`id ${past} ?`], [after.id], `id ${dir}`) : segment([], [], `id ${dir}`)];
  }

  const nulls = (afterId: string | null) =>
    afterId === null
      ? segment([`${sortSql} IS NULL`], [], `id ${dir}`)
      : segment([`${sortSql} IS NULL`, `id ${past} ?`], [afterId], `id ${dir}`);
  const values = (from: { value: IndexValue; id: string } | null) =>
    from === null
      ? segment([`${sortSql} IS NOT NULL`], [], `${sortSql} ${dir}, id ${dir}`)
      : // The first term is what SQLite seeks on; the second skips the ties already returned.
        segment(
          [`${sortSql} ${past}= ?`, `(${sortSql} ${past} ? OR id ${past} ?)`],
          [sqlValue(from.value), sqlValue(from.value), from.id],
          `${sortSql} ${dir}, id ${dir}`,
        );
  // A range on the sort field, or an equality with a value, already excludes NULLs.
  const noNulls =
    query.range?.field === field || query.where.some(([name, value]) => name === field && value !== null);

  const order: ('nulls' | 'values')[] = direction === 'asc' ? ['nulls', 'values'] : ['values', 'nulls'];
  // Resume in the segment the cursor points into; the segments before it are done.
  const resumeIn =
    after === null ? (direction === 'asc' ? 'nulls' : 'values') : after.value === null ? 'nulls' : 'values';
  return order
    .slice(order.indexOf(resumeIn))
    .filter((kind) => !(kind === 'nulls' && noNulls))
    .map((kind) => {
      const resume = kind === resumeIn ? after : null;
      return kind === 'nulls' ? nulls(resume?.id ?? null) : values(resume);
    });
}
