/**
 * The one conformance suite of the read-model port: every adapter runs it (see the
 * `*.read-model.spec.ts` files), so the SQLite default and MongoDB behave the same.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CollectionSpec,
  type FindQuery,
  InvalidQueryError,
  type ReadDocument,
  type ReadModelStore,
  type ReadModelWriter,
} from './read-model.port';

export interface StoreUnderTest {
  store: ReadModelStore;
  /** Removes what the store left behind; called after the store is closed. */
  dispose(): Promise<void>;
}

// The compound indexes serve the finds below that filter on one field and sort on another.
const AUDIT: CollectionSpec = {
  name: 'audit',
  indexes: ['patient', 'actor', 'at', 'rank'],
  compoundIndexes: [
    ['patient', 'rank'],
    ['actor', 'at'],
  ],
};
const PEOPLE: CollectionSpec = { name: 'people', indexes: ['role', 'active'] };

interface AuditDocument extends ReadDocument {
  patient: string;
  actor: string;
  at: string;
  rank?: number | null;
}

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();

/** `count` audit entries: patients p0..p2, actors a0..a1, one minute apart, ranks 0..4 repeating. */
function auditEntries(count: number): AuditDocument[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `e${String(i).padStart(3, '0')}`,
    patient: `p${i % 3}`,
    actor: `a${i % 2}`,
    at: at(i),
    rank: i % 5,
  }));
}

async function write(
  store: ReadModelStore,
  projection: string,
  position: number,
  collection: string,
  documents: readonly ReadDocument[],
): Promise<void> {
  const applied = await store.applyAtomically(projection, position, async (writer) => {
    for (const document of documents) await writer.upsert(collection, document);
  });
  assert.equal(applied, true, `unit ${projection}@${position} applied`);
}

/** Every page of a query from its cursor (or the start), following nextCursor until it is null. */
async function allPages<T extends ReadDocument>(
  store: ReadModelStore,
  collection: string,
  query: FindQuery,
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor = query.cursor;
  for (;;) {
    const page = await store.find<T>(collection, { ...query, cursor });
    pages.push(page.items);
    if (page.nextCursor === null) return pages;
    assert.ok(pages.length < 1000, 'pagination terminates');
    cursor = page.nextCursor;
  }
}

const ids = (documents: readonly ReadDocument[]) => documents.map((d) => d.id);

/** The expected order of `find` with a sort: by value (null/missing first), then id, as the port says. */
function sortedIds(documents: readonly ReadDocument[], field: string, direction: 'asc' | 'desc'): string[] {
  const key = (d: ReadDocument) => (d[field] ?? null) as string | number | null;
  const sorted = [...documents].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    if (x !== y) {
      if (x === null) return -1;
      if (y === null) return 1;
      return x < y ? -1 : 1;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  const result = ids(sorted);
  return direction === 'asc' ? result : result.reverse();
}

async function invalidQuery(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InvalidQueryError, `expected an InvalidQueryError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

/**
 * Defines the suite. `open` returns a fresh, empty store for each test; the suite closes it and
 * then calls `dispose`.
 */
export function readModelConformance(adapter: string, open: () => Promise<StoreUnderTest>): void {
  const it = (name: string, body: (store: ReadModelStore) => Promise<void>) =>
    test(name, async () => {
      const { store, dispose } = await open();
      try {
        await store.register([AUDIT, PEOPLE]);
        await body(store);
      } finally {
        await store.close();
        await dispose();
      }
    });

  describe(`read-model conformance: ${adapter}`, () => {
    describe('documents', () => {
      it('upsert, get and delete; an upsert replaces the whole document', async (store) => {
        assert.equal(await store.get('people', 'u1'), null);
        await write(store, 'people', 0, 'people', [
          { id: 'u1', role: 'patient', name: 'Ada', nickname: 'A' },
          { id: 'u2', role: 'provider', name: 'Bo' },
        ]);
        assert.deepEqual(await store.get('people', 'u1'), {
          id: 'u1',
          role: 'patient',
          name: 'Ada',
          nickname: 'A',
        });
        await write(store, 'people', 1, 'people', [{ id: 'u1', role: 'provider', name: 'Ada' }]);
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', role: 'provider', name: 'Ada' });

        await store.applyAtomically('people', 2, async (writer) => writer.delete('people', 'u1'));
        assert.equal(await store.get('people', 'u1'), null);
        assert.deepEqual(ids((await store.find('people')).items), ['u2']);
        assert.deepEqual(ids((await store.find('people', { where: { role: 'provider' } })).items), ['u2']);

        // Deleting a missing document is a no-op; a deleted id can be written again later.
        await store.applyAtomically('people', 3, async (writer) => writer.delete('people', 'nobody'));
        await write(store, 'people', 4, 'people', [{ id: 'u1', role: 'patient', name: 'Ada again' }]);
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', role: 'patient', name: 'Ada again' });
      });

      it('a document read is a copy: changing it changes nothing stored', async (store) => {
        await write(store, 'people', 0, 'people', [{ id: 'u1', role: 'patient', tags: ['a'] }]);
        const read = await store.get<ReadDocument & { role: string; tags: string[] }>('people', 'u1');
        read!.role = 'changed';
        read!.tags.push('b');
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', role: 'patient', tags: ['a'] });
      });

      it('reads after each unit see it, also of documents read before (and of ones that were missing)', async (store) => {
        assert.equal(await store.get('people', 'u1'), null);
        await write(store, 'people', 0, 'people', [{ id: 'u1', role: 'patient' }]);
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', role: 'patient' });
        await write(store, 'people', 1, 'people', [
          { id: 'u1', role: 'provider' },
          { id: 'u1', role: 'auditor' },
        ]);
        assert.deepEqual(
          await store.get('people', 'u1'),
          { id: 'u1', role: 'auditor' },
          'the last write wins',
        );
        await assert.rejects(
          store.applyAtomically('people', 2, async (writer) => {
            await writer.upsert('people', { id: 'u1', role: 'rolled back' });
            throw new Error('projection bug');
          }),
        );
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', role: 'auditor' });
        await store.applyAtomically('people', 3, async (writer) => writer.delete('people', 'u1'));
        assert.equal(await store.get('people', 'u1'), null);
        await write(store, 'people', 4, 'people', [{ id: 'u2', role: 'patient' }]);
        assert.deepEqual(await store.get('people', 'u2'), { id: 'u2', role: 'patient' });
        await store.reset('people', ['people']);
        assert.equal(await store.get('people', 'u2'), null, 'a reset empties what was read too');
        await write(store, 'people', 0, 'people', [{ id: 'u2', role: 'rebuilt' }]);
        assert.deepEqual(await store.get('people', 'u2'), { id: 'u2', role: 'rebuilt' });
      });

      it('nested JSON values round-trip: arrays, objects, numbers, booleans, null', async (store) => {
        const document = {
          id: 'u1',
          role: 'patient',
          active: true,
          inactive: false,
          nothing: null,
          integer: 42,
          negative: -7,
          fraction: 0.125,
          large: 2 ** 40 + 1,
          text: 'żółw 🐢 "quoted" \\ back',
          empty: '',
          list: [1, 'two', null, false, { three: [3] }],
          emptyList: [],
          nested: { a: { b: { c: [true, null, 1.5] } }, emptyObject: {} },
        };
        await write(store, 'people', 0, 'people', [document]);
        assert.deepEqual(await store.get('people', 'u1'), document);
        assert.deepEqual((await store.find('people', { where: { id: 'u1' } })).items, [document]);
      });

      it('stores what JSON can say: undefined fields are dropped, Dates become ISO strings', async (store) => {
        await write(store, 'people', 0, 'people', [
          { id: 'u1', role: undefined, since: new Date(Date.UTC(2026, 0, 2)) },
        ]);
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', since: '2026-01-02T00:00:00.000Z' });
      });

      it('a document without a string id, or with a reserved field, is refused', async (store) => {
        for (const bad of [
          { role: 'x' },
          { id: '' },
          { id: 7 },
          { id: 'u1', _id: 'x' },
          { id: 'u1', _position: 1 },
        ]) {
          await assert.rejects(
            store.applyAtomically('people', 0, async (writer) =>
              writer.upsert('people', bad as unknown as ReadDocument),
            ),
            /id|reserved/,
          );
        }
        assert.equal(await store.checkpoint('people'), -1);
      });
    });

    describe('register', () => {
      it('is idempotent and can add an index later', async (store) => {
        await write(store, 'audit', 0, 'audit', auditEntries(4));
        await store.register([AUDIT, PEOPLE]);
        await store.register([AUDIT]);
        assert.equal((await store.find('audit')).items.length, 4, 'registering again keeps the data');

        await invalidQuery(store.find('audit', { where: { late: 1 } }), /late/);
        await store.register([{ name: 'audit', indexes: ['late'] }]);
        await write(store, 'audit', 1, 'audit', [{ ...auditEntries(1)[0]!, id: 'x', late: 1 }]);
        assert.deepEqual(ids((await store.find('audit', { where: { late: 1 } })).items), ['x']);
        assert.equal((await store.find('audit', { where: { patient: 'p0' } })).items.length, 3);
      });

      it('refuses collection and field names that are not plain identifiers', async (store) => {
        for (const spec of [
          { name: 'bad-name', indexes: [] },
          { name: 'x; DROP TABLE checkpoints', indexes: [] },
          { name: '1st', indexes: [] },
          { name: 'ok', indexes: ["a') OR 1=1 --"] },
          { name: 'ok', indexes: ['a.b'] },
          { name: 'ok', indexes: ['_position'] },
        ]) {
          await assert.rejects(store.register([spec]), /not a plain identifier|reserved/, spec.name);
        }
      });

      it('refuses a compound index of one field, with a field twice, with id or with a field that is not an identifier', async (store) => {
        for (const [compound, problem] of [
          [['patient'], /at least two fields/],
          [['patient', 'patient'], /repeats a field/],
          [['patient', 'id'], /"id" ends every index already/],
          [['patient', 'a.b'], /not a plain identifier/],
          [['patient', '_deleted'], /reserved/],
        ] as const) {
          await assert.rejects(
            store.register([{ name: 'compound', indexes: ['patient', 'at'], compoundIndexes: [compound] }]),
            problem,
          );
        }
        await assert.rejects(store.find('compound'), /not registered/, 'nothing was registered');
      });

      it('an unregistered collection is a programming error, not a bad query', async (store) => {
        await assert.rejects(store.get('nowhere', 'x'), (error: unknown) => {
          assert.ok(!(error instanceof InvalidQueryError));
          assert.match(String(error), /not registered/);
          return true;
        });
        await assert.rejects(store.find('nowhere'), /not registered/);
        await assert.rejects(
          store.applyAtomically('p', 0, (writer) => writer.upsert('nowhere', { id: 'x' })),
          /not registered/,
        );
      });
    });

    describe('find', () => {
      it('by equality on one and on two indexed fields, and on id', async (store) => {
        const entries = auditEntries(30);
        await write(store, 'audit', 0, 'audit', entries);
        const byPatient = await store.find<AuditDocument>('audit', { where: { patient: 'p1' } });
        assert.deepEqual(
          ids(byPatient.items),
          ids(entries.filter((e) => e.patient === 'p1')),
          'all matches, by id',
        );
        const byBoth = await store.find<AuditDocument>('audit', { where: { patient: 'p1', actor: 'a0' } });
        assert.deepEqual(
          ids(byBoth.items),
          ids(entries.filter((e) => e.patient === 'p1' && e.actor === 'a0')),
        );
        assert.ok(byBoth.items.length > 0);
        assert.deepEqual(ids((await store.find('audit', { where: { id: 'e007' } })).items), ['e007']);
        assert.deepEqual((await store.find('audit', { where: { patient: 'nobody' } })).items, []);
        assert.deepEqual((await store.find('audit', { where: { rank: 3, patient: 'p0' } })).items.length, 2);
      });

      it('on a field declared only in a compound index, alone or with its sort', async (store) => {
        const visits: CollectionSpec = {
          name: 'visits',
          indexes: ['at'],
          compoundIndexes: [['patient', 'at']],
        };
        await store.register([visits]);
        const entries = auditEntries(12);
        await write(store, 'visits', 0, 'visits', entries);
        const p1 = entries.filter((e) => e.patient === 'p1');
        const byTime = await store.find<AuditDocument>('visits', {
          where: { patient: 'p1' },
          sort: { field: 'at', direction: 'desc' },
        });
        assert.deepEqual(ids(byTime.items), ids([...p1].sort((a, b) => b.at.localeCompare(a.at))));
        assert.deepEqual(ids((await store.find('visits', { where: { patient: 'p1' } })).items), ids(p1));
        await invalidQuery(store.find('visits', { where: { actor: 'a0' } }), /"actor".*not an index.*visits/);
      });

      it('by equality on booleans and null (null also matches a missing field)', async (store) => {
        await write(store, 'people', 0, 'people', [
          { id: 'u1', role: 'patient', active: true },
          { id: 'u2', role: 'patient', active: false },
          { id: 'u3', role: null, active: true },
          { id: 'u4', active: false },
        ]);
        assert.deepEqual(ids((await store.find('people', { where: { active: true } })).items), ['u1', 'u3']);
        assert.deepEqual(ids((await store.find('people', { where: { active: false } })).items), ['u2', 'u4']);
        assert.deepEqual(ids((await store.find('people', { where: { role: null } })).items), ['u3', 'u4']);
      });

      it('by a range on a timestamp: gte inclusive, lt exclusive, either bound alone', async (store) => {
        await write(store, 'audit', 0, 'audit', auditEntries(20));
        const range = (gte?: string, lt?: string) =>
          store
            .find('audit', { range: { field: 'at', gte, lt }, sort: { field: 'at', direction: 'asc' } })
            .then((page) => ids(page.items));
        assert.deepEqual(await range(at(5), at(8)), ['e005', 'e006', 'e007']);
        assert.deepEqual(await range(at(17)), ['e017', 'e018', 'e019']);
        assert.deepEqual(await range(undefined, at(2)), ['e000', 'e001']);
        assert.deepEqual(await range(at(8), at(8)), []);
        const withWhere = await store.find('audit', {
          where: { patient: 'p0' },
          range: { field: 'at', gte: at(3), lt: at(12) },
        });
        assert.deepEqual(ids(withWhere.items), ['e003', 'e006', 'e009']);
        const numeric = await store.find('audit', { range: { field: 'rank', gte: 3 }, limit: 1000 });
        assert.equal(numeric.items.length, 8);
      });

      it('sorts ascending and descending, ties broken by id in the same direction', async (store) => {
        const entries = auditEntries(12);
        await write(store, 'audit', 0, 'audit', entries);
        for (const direction of ['asc', 'desc'] as const) {
          const page = await store.find('audit', { sort: { field: 'rank', direction } });
          assert.deepEqual(ids(page.items), sortedIds(entries, 'rank', direction), direction);
          const byTime = await store.find('audit', {
            sort: { field: 'at', direction },
            where: { actor: 'a1' },
          });
          assert.deepEqual(
            ids(byTime.items),
            sortedIds(
              entries.filter((e) => e.actor === 'a1'),
              'at',
              direction,
            ),
          );
          const byId = await store.find('audit', { sort: { field: 'id', direction } });
          assert.deepEqual(ids(byId.items), sortedIds(entries, 'id', direction));
        }
        assert.deepEqual(ids((await store.find('audit')).items), ids(entries), 'default: id ascending');
      });

      it('limit defaults to 100 and caps a page', async (store) => {
        await write(store, 'audit', 0, 'audit', auditEntries(120));
        const first = await store.find('audit');
        assert.equal(first.items.length, 100);
        assert.notEqual(first.nextCursor, null);
        assert.equal((await store.find('audit', { limit: 1000 })).items.length, 120);
        assert.equal((await store.find('audit', { limit: 1 })).items.length, 1);
      });
    });

    describe('cursor pagination', () => {
      it('visits every item exactly once, in order, across pages (also with equal sort values)', async (store) => {
        const entries = auditEntries(23);
        await write(store, 'audit', 0, 'audit', entries);
        const queries: [FindQuery, string[]][] = [
          [{}, ids(entries)],
          [{ sort: { field: 'id', direction: 'desc' } }, sortedIds(entries, 'id', 'desc')],
          [{ sort: { field: 'at', direction: 'asc' } }, sortedIds(entries, 'at', 'asc')],
          [{ sort: { field: 'rank', direction: 'asc' } }, sortedIds(entries, 'rank', 'asc')],
          [{ sort: { field: 'rank', direction: 'desc' } }, sortedIds(entries, 'rank', 'desc')],
          [
            { sort: { field: 'rank', direction: 'desc' }, where: { patient: 'p2' } },
            sortedIds(
              entries.filter((e) => e.patient === 'p2'),
              'rank',
              'desc',
            ),
          ],
          [
            { sort: { field: 'at', direction: 'desc' }, range: { field: 'at', gte: at(4), lt: at(19) } },
            sortedIds(entries.slice(4, 19), 'at', 'desc'),
          ],
        ];
        for (const [query, expected] of queries) {
          for (const limit of [1, 3, 5, 23, 100]) {
            const pages = await allPages(store, 'audit', { ...query, limit });
            assert.deepEqual(ids(pages.flat()), expected, `${JSON.stringify(query)} limit ${limit}`);
            const last = pages.at(-1)!;
            assert.ok(
              pages.slice(0, -1).every((page) => page.length === limit),
              'every page but the last is full',
            );
            assert.ok(last.length > 0 && last.length <= limit, 'the last page is not empty');
          }
        }
      });

      it('all items have the same sort value', async (store) => {
        const entries = auditEntries(10).map((e) => ({ ...e, rank: 7 }));
        await write(store, 'audit', 0, 'audit', entries);
        for (const direction of ['asc', 'desc'] as const) {
          const pages = await allPages(store, 'audit', { sort: { field: 'rank', direction }, limit: 3 });
          assert.deepEqual(ids(pages.flat()), sortedIds(entries, 'id', direction));
        }
      });

      it('null and missing sort values come first ascending and last descending, and page through', async (store) => {
        const entries: AuditDocument[] = auditEntries(14).map((e, i) =>
          i % 4 === 0 ? { ...e, rank: null } : i % 4 === 1 ? (({ rank: _, ...rest }) => rest)(e) : e,
        );
        await write(store, 'audit', 0, 'audit', entries);
        for (const direction of ['asc', 'desc'] as const) {
          const expected = sortedIds(entries, 'rank', direction);
          const nulls = entries.filter((e) => e.rank === null || e.rank === undefined).length;
          assert.equal(nulls, 8);
          const head = ids((await store.find('audit', { sort: { field: 'rank', direction } })).items);
          assert.deepEqual(head, expected, direction);
          for (const limit of [1, 2, 3, 7]) {
            const pages = await allPages(store, 'audit', { sort: { field: 'rank', direction }, limit });
            assert.deepEqual(ids(pages.flat()), expected, `${direction} limit ${limit}`);
          }
        }
      });

      it('stays stable while items are inserted: nothing is skipped or repeated', async (store) => {
        const entries = auditEntries(10);
        await write(store, 'audit', 0, 'audit', entries);
        const query: FindQuery = { sort: { field: 'at', direction: 'asc' }, limit: 4 };
        const first = await store.find('audit', query);
        assert.deepEqual(ids(first.items), ['e000', 'e001', 'e002', 'e003']);
        // Inserted before the cursor, on the cursor's value with an id before and after its id, and at the end.
        await write(store, 'audit', 1, 'audit', [
          { id: 'a-early', patient: 'p0', actor: 'a0', at: at(1) },
          { id: 'e002z', patient: 'p0', actor: 'a0', at: at(3) },
          { id: 'e003z', patient: 'p0', actor: 'a0', at: at(3) },
          { id: 'z-late', patient: 'p0', actor: 'a0', at: at(50) },
        ]);
        const rest = await allPages(store, 'audit', { ...query, cursor: first.nextCursor! });
        const seen = [...ids(first.items), ...ids(rest.flat())];
        assert.deepEqual(seen, ['e000', 'e001', 'e002', 'e003', 'e003z', ...ids(entries.slice(4)), 'z-late']);
      });

      it('the last page says so: nextCursor null, also when the items fill it exactly', async (store) => {
        await write(store, 'audit', 0, 'audit', auditEntries(6));
        const first = await store.find('audit', { limit: 3 });
        assert.notEqual(first.nextCursor, null);
        const second = await store.find('audit', { limit: 3, cursor: first.nextCursor! });
        assert.deepEqual(ids(second.items), ['e003', 'e004', 'e005']);
        assert.equal(second.nextCursor, null);
        assert.equal((await store.find('audit', { limit: 6 })).nextCursor, null);
        assert.deepEqual(await store.find('people'), { items: [], nextCursor: null });
      });

      it('a cursor is opaque base64url', async (store) => {
        await write(store, 'audit', 0, 'audit', auditEntries(3));
        const { nextCursor } = await store.find('audit', {
          limit: 1,
          sort: { field: 'at', direction: 'desc' },
        });
        assert.match(nextCursor!, /^[A-Za-z0-9_-]+$/);
      });
    });

    describe('bad queries are InvalidQueryErrors naming the problem', () => {
      it('a field that is not a declared index', async (store) => {
        await invalidQuery(store.find('audit', { where: { secret: 'x' } }), /"secret".*not an index.*audit/);
        await invalidQuery(store.find('audit', { where: { patient: 'p0', name: 'x' } }), /"name"/);
        await invalidQuery(store.find('audit', { range: { field: 'when', gte: 'x' } }), /range.*"when"/);
        await invalidQuery(store.find('audit', { sort: { field: 'doc', direction: 'asc' } }), /sort.*"doc"/);
        await invalidQuery(store.find('people', { where: { patient: 'p0' } }), /"patient".*people/);
      });

      it('a bad sort direction, where value or range bound', async (store) => {
        await invalidQuery(
          store.find('audit', { sort: { field: 'at', direction: 'up' as 'asc' } }),
          /sort direction/,
        );
        await invalidQuery(
          store.find('audit', { where: { patient: { $ne: 'x' } as unknown as string } }),
          /where value of "patient"/,
        );
        await invalidQuery(
          store.find('audit', { range: { field: 'at', gte: true as unknown as string } }),
          /range gte of "at"/,
        );
      });

      it('a bad limit', async (store) => {
        for (const limit of [0, -1, 1001, 2.5, Number.NaN, '10' as unknown as number]) {
          await invalidQuery(store.find('audit', { limit }), /limit must be a whole number from 1 to 1000/);
        }
      });

      it('a bad cursor, or a cursor made for another sort', async (store) => {
        await write(store, 'audit', 0, 'audit', auditEntries(5));
        const bad = [
          'not a cursor!',
          '',
          Buffer.from('{"broken json', 'utf8').toString('base64url'),
          Buffer.from('[1,2]', 'utf8').toString('base64url'),
          Buffer.from('{"f":"at","d":"asc","v":{"$gt":""},"i":"e001"}', 'utf8').toString('base64url'),
        ];
        for (const cursor of bad) await invalidQuery(store.find('audit', { cursor }), /cursor/);
        const { nextCursor } = await store.find('audit', {
          limit: 2,
          sort: { field: 'at', direction: 'asc' },
        });
        await invalidQuery(
          store.find('audit', { cursor: nextCursor!, sort: { field: 'at', direction: 'desc' } }),
          /cursor was made for sort at asc/,
        );
        await invalidQuery(store.find('audit', { cursor: nextCursor! }), /cursor was made for sort/);
      });
    });

    describe('applyAtomically and checkpoints', () => {
      it('the checkpoint is -1 before a projection applied anything', async (store) => {
        assert.equal(await store.checkpoint('consents'), -1);
      });

      it('writes and the checkpoint land together', async (store) => {
        const applied = await store.applyAtomically('consents', 7, async (writer) => {
          await writer.upsert('people', { id: 'u1', role: 'patient' });
          await writer.upsert('audit', { ...auditEntries(1)[0]! });
        });
        assert.equal(applied, true);
        assert.equal(await store.checkpoint('consents'), 7);
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', role: 'patient' });
        assert.equal((await store.find('audit')).items.length, 1);
      });

      it('a throwing unit leaves neither its writes nor a checkpoint, and the store goes on', async (store) => {
        await write(store, 'consents', 1, 'people', [{ id: 'u1', role: 'patient' }]);
        const failure = new Error('projection bug');
        await assert.rejects(
          store.applyAtomically('consents', 2, async (writer) => {
            await writer.upsert('people', { id: 'u1', role: 'changed' });
            await writer.upsert('people', { id: 'u2', role: 'new' });
            await writer.delete('people', 'u1');
            await new Promise((resolve) => setImmediate(resolve));
            throw failure;
          }),
          (error) => error === failure,
        );
        assert.equal(await store.checkpoint('consents'), 1);
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', role: 'patient' });
        assert.equal(await store.get('people', 'u2'), null);
        await write(store, 'consents', 2, 'people', [{ id: 'u2', role: 'retried' }]);
        assert.equal(await store.checkpoint('consents'), 2);
        assert.deepEqual(await store.get('people', 'u2'), { id: 'u2', role: 'retried' });
      });

      it('a unit at or before the checkpoint is skipped without running its work', async (store) => {
        await write(store, 'consents', 5, 'people', [{ id: 'u1', role: 'patient' }]);
        for (const position of [5, 4, 0]) {
          let ran = false;
          const applied = await store.applyAtomically('consents', position, async (writer) => {
            ran = true;
            await writer.upsert('people', { id: 'u1', role: 'replayed' });
          });
          assert.equal(applied, false, `position ${position}`);
          assert.equal(ran, false);
        }
        assert.equal(await store.checkpoint('consents'), 5);
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', role: 'patient' });
        assert.equal(await store.checkpoint('other'), -1, 'checkpoints are per projection');
      });

      it("the writer reads its own unit's writes; others see them only once the unit lands", async (store) => {
        await write(store, 'consents', 0, 'people', [{ id: 'u1', role: 'patient', visits: 1 }]);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let inside!: () => void;
        const reachedInside = new Promise<void>((resolve) => (inside = resolve));
        const unit = store.applyAtomically('consents', 1, async (writer) => {
          const before = await writer.get<ReadDocument & { visits: number }>('people', 'u1');
          await writer.upsert('people', { ...before!, visits: before!.visits + 1 });
          assert.deepEqual(await writer.get('people', 'u1'), { id: 'u1', role: 'patient', visits: 2 });
          await writer.upsert('people', { id: 'u2', role: 'provider' });
          await writer.delete('people', 'u2');
          assert.equal(await writer.get('people', 'u2'), null);
          inside();
          await gate;
        });
        await reachedInside;
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', role: 'patient', visits: 1 });
        assert.equal((await store.find('people', { where: { role: 'patient' } })).items.length, 1);
        assert.equal(await store.checkpoint('consents'), 0);
        release();
        assert.equal(await unit, true);
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', role: 'patient', visits: 2 });
        assert.equal(await store.get('people', 'u2'), null);
        assert.equal(await store.checkpoint('consents'), 1);
      });

      it('a writer cannot be used after its unit ended', async (store) => {
        let leaked: ReadModelWriter | undefined;
        await store.applyAtomically('consents', 0, async (writer) => {
          leaked = writer;
        });
        await assert.rejects(leaked!.upsert('people', { id: 'late' }), /after its unit ended/);
        assert.equal(await store.get('people', 'late'), null);
      });

      it('a unit cannot start another unit inside it (it would wait for itself)', async (store) => {
        await assert.rejects(
          store.applyAtomically('consents', 0, async () => {
            await store.applyAtomically('other', 0, async () => undefined);
          }),
          /inside a unit/,
        );
        assert.equal(await store.checkpoint('consents'), -1);
        assert.equal(await store.checkpoint('other'), -1);
      });

      it('units of one projection called together apply in call order', async (store) => {
        const results = await Promise.all(
          [1, 2, 3, 2].map((position) =>
            store.applyAtomically('consents', position, async (writer) => {
              await new Promise((resolve) => setImmediate(resolve));
              await writer.upsert('people', { id: 'u1', role: `at ${position}` });
            }),
          ),
        );
        assert.deepEqual(results, [true, true, true, false]);
        assert.equal(await store.checkpoint('consents'), 3);
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', role: 'at 3' });
      });

      it('concurrent units of two projections do not corrupt each other', async (store) => {
        const tick = () => new Promise((resolve) => setImmediate(resolve));
        const run = (projection: string, collection: string, failAt?: number) =>
          Promise.allSettled(
            Array.from({ length: 6 }, (_, position) =>
              store.applyAtomically(projection, position, async (writer) => {
                for (let i = 0; i < 3; i += 1) {
                  await tick();
                  await writer.upsert(collection, {
                    id: `${projection}-${position}-${i}`,
                    role: projection,
                    patient: projection,
                    actor: 'x',
                    at: at(position),
                  });
                }
                if (position === failAt) throw new Error(`unit ${position} fails`);
              }),
            ),
          );
        const [a, b] = await Promise.all([run('alpha', 'people'), run('beta', 'audit', 3)]);
        assert.ok(a.every((r) => r.status === 'fulfilled' && r.value === true));
        assert.deepEqual(
          b.map((r) => r.status),
          ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
        );
        assert.equal(await store.checkpoint('alpha'), 5);
        assert.equal(await store.checkpoint('beta'), 5);
        const people = await store.find('people', { limit: 1000 });
        assert.equal(people.items.length, 18);
        assert.ok(people.items.every((d) => d.role === 'alpha'));
        const audit = await store.find('audit', { limit: 1000 });
        assert.equal(audit.items.length, 15, 'the failed unit of beta left nothing');
        assert.ok(audit.items.every((d) => d.patient === 'beta' && !d.id.startsWith('beta-3-')));
      });

      it('reset empties the collections and the checkpoint, and a rebuild from zero applies again', async (store) => {
        await write(store, 'consents', 40, 'people', [{ id: 'u1', role: 'patient' }]);
        await write(store, 'consents', 41, 'audit', auditEntries(5));
        await store.applyAtomically('consents', 42, async (writer) => writer.delete('audit', 'e000'));
        await write(store, 'directory', 9, 'people', [{ id: 'u9', role: 'provider' }]);

        await store.reset('consents', ['people', 'audit']);
        assert.equal(await store.checkpoint('consents'), -1);
        assert.equal(await store.checkpoint('directory'), 9, "another projection's checkpoint stays");
        assert.deepEqual(await store.find('people'), { items: [], nextCursor: null });
        assert.deepEqual(await store.find('audit'), { items: [], nextCursor: null });

        await write(store, 'consents', 0, 'people', [{ id: 'u1', role: 'rebuilt' }]);
        await write(store, 'consents', 1, 'audit', auditEntries(2));
        assert.deepEqual(await store.get('people', 'u1'), { id: 'u1', role: 'rebuilt' });
        assert.deepEqual(ids((await store.find('audit')).items), ['e000', 'e001']);
        assert.equal(await store.checkpoint('consents'), 1);
      });

      it('a unit position must be a whole number ≥ 0', async (store) => {
        for (const position of [-1, 1.5, Number.NaN]) {
          await assert.rejects(
            store.applyAtomically('consents', position, async () => undefined),
            /position/,
          );
        }
      });
    });
  });
}
