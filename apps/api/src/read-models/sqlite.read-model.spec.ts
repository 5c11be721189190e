import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { readModelConformance } from './read-model.conformance';
import { SQLITE_READ_MODELS_FILE, SqliteReadModelStore } from './sqlite.read-model';

const folders: string[] = [];
function tempFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'custos-read-models-'));
  folders.push(folder);
  return folder;
}
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

readModelConformance('sqlite', async () => {
  const folder = tempFolder();
  return {
    store: SqliteReadModelStore.open(folder),
    dispose: async () => rmSync(folder, { recursive: true, force: true }),
  };
});

describe('sqlite read models', () => {
  const AUDIT = { name: 'audit', indexes: ['patient', 'actor', 'at'], compoundIndexes: [['actor', 'at']] };

  test('the file is read-models.sqlite in the data folder (created if missing), in WAL mode', async () => {
    const folder = path.join(tempFolder(), 'nested', 'data');
    const store = SqliteReadModelStore.open(folder);
    try {
      assert.equal(store.file, path.join(folder, SQLITE_READ_MODELS_FILE));
      await store.register([AUDIT]);
      await store.ping();
      const raw = new (await import('better-sqlite3')).default(store.file, { readonly: true });
      try {
        assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        raw.close();
      }
    } finally {
      await store.close();
    }
  });

  test('data and checkpoints survive close and reopen', async () => {
    const folder = tempFolder();
    const first = SqliteReadModelStore.open(folder);
    await first.register([AUDIT]);
    await first.applyAtomically('audit', 12, async (writer) => {
      await writer.upsert('audit', { id: 'e1', patient: 'p1', at: '2026-01-01T00:00:00.000Z', tags: ['x'] });
    });
    await first.close();
    await first.close();
    await assert.rejects(first.get('audit', 'e1'), /closed/);

    const second = SqliteReadModelStore.open(folder);
    try {
      assert.equal(await second.checkpoint('audit'), 12, 'no register needed to read a checkpoint');
      await second.register([AUDIT]);
      assert.deepEqual(await second.get('audit', 'e1'), {
        id: 'e1',
        patient: 'p1',
        at: '2026-01-01T00:00:00.000Z',
        tags: ['x'],
      });
      assert.equal(await second.applyAtomically('audit', 12, async () => undefined), false);
    } finally {
      await second.close();
    }
  });

  test('close waits for the unit in progress to land', async () => {
    const folder = tempFolder();
    const store = SqliteReadModelStore.open(folder);
    await store.register([AUDIT]);
    const unit = store.applyAtomically('audit', 0, async (writer) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      await writer.upsert('audit', { id: 'e1', patient: 'p1', at: 'x' });
    });
    await store.close();
    assert.equal(await unit, true);
    const reopened = SqliteReadModelStore.open(folder);
    try {
      await reopened.register([AUDIT]);
      assert.notEqual(await reopened.get('audit', 'e1'), null);
    } finally {
      await reopened.close();
    }
  });

  test('a document another process changes or resets is read anew by the next turn', async () => {
    const folder = tempFolder();
    // Two stores on one file, as two API processes (or a rebuild) would be: connections of their own.
    const api = SqliteReadModelStore.open(folder);
    const other = SqliteReadModelStore.open(folder);
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    try {
      await api.register([AUDIT]);
      await other.register([AUDIT]);
      await other.applyAtomically('audit', 0, async (writer) =>
        writer.upsert('audit', { id: 'e1', patient: 'p1', at: 'granted' }),
      );
      assert.equal(await api.get('audit', 'e2'), null);
      assert.deepEqual(await api.get('audit', 'e1'), { id: 'e1', patient: 'p1', at: 'granted' });

      await other.applyAtomically('audit', 1, async (writer) => {
        await writer.upsert('audit', { id: 'e1', patient: 'p1', at: 'revoked' });
        await writer.upsert('audit', { id: 'e2', patient: 'p2', at: 'new' });
      });
      await nextTurn();
      assert.deepEqual(await api.get('audit', 'e1'), { id: 'e1', patient: 'p1', at: 'revoked' });
      assert.deepEqual(await api.get('audit', 'e2'), { id: 'e2', patient: 'p2', at: 'new' });

      await other.reset('audit', ['audit']);
      await nextTurn();
      assert.equal(await api.get('audit', 'e1'), null);
    } finally {
      await api.close();
      await other.close();
    }
  });

  test('equality, range, sort and every next page are index searches, not table scans', async () => {
    const store = SqliteReadModelStore.open(tempFolder());
    try {
      await store.register([AUDIT]);
      await store.applyAtomically('audit', 0, async (writer) => {
        for (let i = 0; i < 50; i += 1)
          await writer.upsert('audit', { id: `e${i}`, patient: `p${i % 5}`, at: String(1000 + i) });
      });
      const desc = { sort: { field: 'at', direction: 'desc' as const }, limit: 5 };
      const { nextCursor } = await store.find('audit', desc);
      const plans = {
        equality: store.queryPlan('audit', { where: { patient: 'p1' } }),
        range: store.queryPlan('audit', { range: { field: 'at', gte: '1010', lt: '1020' } }),
        sort: store.queryPlan('audit', { sort: { field: 'at', direction: 'asc' } }),
        nextPage: store.queryPlan('audit', { ...desc, cursor: nextCursor! }),
        byId: store.queryPlan('audit', { where: { id: 'e1' } }),
      };
      assert.match(plans.equality, /USING INDEX "?rm_audit\.patient"? \(<expr>=\?\)/);
      assert.match(plans.range, /USING INDEX "?rm_audit\.at"? \(<expr>>\? AND <expr><\?\)/);
      assert.match(plans.sort, /USING INDEX "?rm_audit\.at"?/);
      assert.match(plans.nextPage, /SEARCH .*USING INDEX "?rm_audit\.at"? \(<expr><\?\)/);
      assert.match(plans.byId, /USING INDEX sqlite_autoindex_rm_audit_1 \(id=\?\)/);
      for (const plan of Object.values(plans)) assert.doesNotMatch(plan, /SCAN rm_audit$/m);
    } finally {
      await store.close();
    }
  });

  test('an index the spec no longer lists is dropped when the store opens again; the documents stay', async () => {
    const folder = tempFolder();
    const indexesOf = async (store: SqliteReadModelStore) => {
      const raw = new (await import('better-sqlite3')).default(store.file, { readonly: true });
      try {
        return raw
          .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'rm_audit' ORDER BY name",
          )
          .pluck()
          .all();
      } finally {
        raw.close();
      }
    };
    const first = SqliteReadModelStore.open(folder);
    try {
      await first.register([AUDIT]);
      await first.applyAtomically('audit', 0, async (writer) => {
        await writer.upsert('audit', { id: 'e1', actor: 'a1', patient: 'p1', at: '1000' });
        await writer.upsert('audit', { id: 'e2', actor: 'a2', patient: 'p1', at: '1001' });
      });
      assert.deepEqual(await indexesOf(first), [
        'rm_audit.actor',
        'rm_audit.actor+at',
        'rm_audit.at',
        'rm_audit.patient',
        'sqlite_autoindex_rm_audit_1',
      ]);
    } finally {
      await first.close();
    }

    const leaner = SqliteReadModelStore.open(folder);
    try {
      // `actor` alone and `at` alone go: both stay queryable through the compound index.
      await leaner.register([{ name: 'audit', indexes: ['patient'], compoundIndexes: [['actor', 'at']] }]);
      assert.deepEqual(await indexesOf(leaner), [
        'rm_audit.actor+at',
        'rm_audit.patient',
        'sqlite_autoindex_rm_audit_1',
      ]);
      const byActor = await leaner.find('audit', {
        where: { actor: 'a2' },
        sort: { field: 'at', direction: 'desc' },
      });
      assert.deepEqual(byActor.items, [{ id: 'e2', actor: 'a2', patient: 'p1', at: '1001' }]);
      assert.equal((await leaner.find('audit', { where: { patient: 'p1' } })).items.length, 2);
      assert.match(
        leaner.queryPlan('audit', { where: { actor: 'a1' }, sort: { field: 'at', direction: 'desc' } }),
        /USING INDEX "?rm_audit\.actor\+at"?/,
      );
    } finally {
      await leaner.close();
    }
  });

  test('a filter on one field sorted on another reads its page through the compound index, with no sort step', async () => {
    const store = SqliteReadModelStore.open(tempFolder());
    try {
      await store.register([AUDIT]);
      await store.applyAtomically('audit', 0, async (writer) => {
        for (let i = 0; i < 50; i += 1)
          await writer.upsert('audit', {
            id: `e${i}`,
            actor: `a${i % 3}`,
            patient: `p${i % 5}`,
            at: String(1000 + i),
          });
      });
      const query = { where: { actor: 'a1' }, sort: { field: 'at', direction: 'desc' as const }, limit: 5 };
      const { nextCursor } = await store.find('audit', query);
      for (const plan of [
        store.queryPlan('audit', query),
        store.queryPlan('audit', { ...query, cursor: nextCursor! }),
      ]) {
        assert.match(plan, /SEARCH rm_audit USING INDEX "?rm_audit\.actor\+at"? \(<expr>=\?/);
        assert.doesNotMatch(plan, /TEMP B-TREE/);
      }
    } finally {
      await store.close();
    }
  });
});
