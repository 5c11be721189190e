import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { NewEvent, RecordedEvent } from '@custos/domain';
import Database from 'better-sqlite3';
import { eventStoreConformance } from './event-store.conformance';
import { createEventStore } from './event-store.factory';
import { ConcurrencyError } from './event-store.port';
import { EVENTS_FILE_NAME, SqliteEventStore } from './sqlite.event-store';

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function tempFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'custos-events-'));
  folders.push(folder);
  return folder;
}

function event(n: number, id: string = randomUUID()): NewEvent {
  return {
    id,
    type: 'TestHappened',
    version: 1,
    data: { n },
    metadata: {
      actor: 'system',
      correlationId: 'c',
      causationId: 'c',
      occurredAt: '2025-03-01T12:00:00.000Z',
    },
  };
}

/** Another writer on the same file, as another process would be: a connection of its own. */
function foreignWriter(dataDir: string) {
  const db = new Database(path.join(dataDir, EVENTS_FILE_NAME));
  db.pragma('busy_timeout = 5000');
  const insert = db.prepare(
    'INSERT INTO events (stream, revision, id, type, version, data, metadata, recorded_at) ' +
      "SELECT ?, COALESCE(MAX(revision), -1) + 1, ?, 'TestHappened', 1, ?, ?, ? FROM events WHERE stream = ?",
  );
  return {
    append(stream: string, n: number) {
      const { data, metadata } = event(n);
      insert.run(
        stream,
        randomUUID(),
        JSON.stringify(data),
        JSON.stringify(metadata),
        new Date().toISOString(),
        stream,
      );
    },
    close: () => db.close(),
  };
}

async function numbers(events: AsyncIterable<RecordedEvent>): Promise<number[]> {
  const found: number[] = [];
  for await (const recorded of events) found.push((recorded.data as { n: number }).n);
  return found;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

eventStoreConformance(
  'sqlite',
  async () => new SqliteEventStore({ dataDir: tempFolder(), pollIntervalMs: 20 }),
);

describe('sqlite event store', () => {
  test('keeps one WAL-mode file, events.sqlite, in the data folder, creating the folder', async () => {
    const dataDir = path.join(tempFolder(), 'nested', 'data');
    const store = createEventStore({ CUSTOS_DATA_DIR: dataDir, EVENTSTORE_URL: undefined });
    assert.ok(store instanceof SqliteEventStore);
    await store.append('s', [event(1)], 'no_stream');
    await store.close();
    const file = path.join(dataDir, EVENTS_FILE_NAME);
    assert.ok(existsSync(file));
    const raw = new Database(file, { readonly: true });
    try {
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(raw.prepare('SELECT COUNT(*) FROM events').pluck().get(), 1);
    } finally {
      raw.close();
    }
  });

  test('an empty store has head position -1 and reads nothing', async () => {
    const store = new SqliteEventStore({ dataDir: tempFolder() });
    try {
      assert.equal(await store.headPosition(), -1);
      const all: RecordedEvent[] = [];
      for await (const recorded of store.readAll()) all.push(recorded);
      assert.deepEqual(all, []);
    } finally {
      await store.close();
    }
  });

  test('events survive closing and reopening the same folder (a restart), and appends continue', async () => {
    const dataDir = tempFolder();
    const first = new SqliteEventStore({ dataDir });
    const written = await first.append('consent-0xabc', [event(1), event(2)], 'no_stream');
    await first.close();

    const reopened = new SqliteEventStore({ dataDir });
    try {
      assert.deepEqual(
        (await reopened.readStream('consent-0xabc')).map((e) => e.data),
        [{ n: 1 }, { n: 2 }],
      );
      assert.equal(await reopened.headPosition(), written.position);
      await assert.rejects(reopened.append('consent-0xabc', [event(3)], 'no_stream'), ConcurrencyError);
      const next = await reopened.append('consent-0xabc', [event(3)], 1);
      assert.equal(next.revision, 2);
      assert.ok(next.position > written.position, 'positions are never reused');
    } finally {
      await reopened.close();
    }
  });

  test('a second store on the same file (another process) sees the first one’s appends through polling', async () => {
    const dataDir = tempFolder();
    const writer = new SqliteEventStore({ dataDir });
    const reader = new SqliteEventStore({ dataDir, pollIntervalMs: 20 });
    const subscription = reader.subscribe();
    try {
      const received: RecordedEvent[] = [];
      const consumer = (async () => {
        for await (const recorded of subscription) {
          received.push(recorded);
          if (received.length === 5) break;
        }
      })();
      await writer.append('a', [event(1), event(2)], 'no_stream');
      await new Promise((resolve) => setTimeout(resolve, 60)); // the reader goes live in between
      await writer.append('b', [event(3)], 'no_stream');
      await reader.append('a', [event(4)], 1); // and the reader's own appends interleave
      await writer.append('a', [event(5)], 2);
      const startedWaiting = Date.now();
      await consumer;
      assert.ok(Date.now() - startedWaiting < 2000);
      assert.deepEqual(
        received.map((e) => (e.data as { n: number }).n),
        [1, 2, 3, 4, 5],
      );
      assert.deepEqual(
        received.map((e) => e.position),
        [1, 2, 3, 4, 5],
      );
    } finally {
      await subscription.close();
      await reader.close();
      await writer.close();
    }
  });

  test('readAll pages through the table without loading it at once', async () => {
    const store = new SqliteEventStore({ dataDir: tempFolder(), pageSize: 10 });
    try {
      for (let i = 0; i < 25; i++) await store.append(`s-${i % 3}`, [event(i)], 'any');
      const all: number[] = [];
      for await (const recorded of store.readAll()) all.push((recorded.data as { n: number }).n);
      assert.deepEqual(
        all,
        Array.from({ length: 25 }, (_, i) => i),
      );
      const limited: number[] = [];
      for await (const recorded of store.readAll(5, { maxCount: 12 })) limited.push(recorded.position);
      assert.deepEqual(
        limited,
        Array.from({ length: 12 }, (_, i) => i + 6),
      );
    } finally {
      await store.close();
    }
  });

  test('events another connection writes are read after the store has read to the end, with or without subscriptions', async () => {
    const dataDir = tempFolder();
    const store = new SqliteEventStore({ dataDir });
    const other = foreignWriter(dataDir);
    try {
      await store.append('s', [event(1)], 'any');
      assert.deepEqual(await numbers(store.readAll()), [1]);
      other.append('s', 2);
      await nextTurn();
      assert.deepEqual(await numbers(store.readAll()), [1, 2]);

      // A live subscription reads the newest events from memory; another writer's still reach it.
      const subscription = store.subscribe();
      const received: number[] = [];
      const consumer = (async () => {
        for await (const recorded of subscription) {
          received.push((recorded.data as { n: number }).n);
          if (received.length === 6) break;
        }
      })();
      await store.append('s', [event(3)], 'any');
      other.append('s', 4); // between two appends of the store
      await store.append('s', [event(5)], 'any');
      await nextTurn();
      other.append('s', 6); // after them, with nothing appended here since: found by polling
      await consumer;
      assert.deepEqual(received, [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(await numbers(store.readAll()), [1, 2, 3, 4, 5, 6]);
    } finally {
      other.close();
      await store.close();
    }
  });

  test('a stream read from memory after an append is what the table holds; maxCount and fromRevision apply', async () => {
    const dataDir = tempFolder();
    const store = new SqliteEventStore({ dataDir });
    const subscription = store.subscribe(); // the API's projections: the store keeps the newest events
    try {
      await store.append('s', [event(1), event(2)], 'no_stream');
      await store.append('t', [event(10)], 'no_stream');
      await store.append('s', [event(3)], 1);
      const fromMemory = await store.readStream('s', { fromRevision: 1 });
      assert.deepEqual(
        fromMemory.map((e) => [e.revision, (e.data as { n: number }).n]),
        [
          [1, 2],
          [2, 3],
        ],
      );
      assert.deepEqual(await store.readStream('s', { fromRevision: 3 }), []);
      assert.deepEqual(
        (await store.readStream('s', { fromRevision: 0, maxCount: 2 })).map((e) => e.revision),
        [0, 1],
      );
      // The same events a fresh store reads from the table.
      const fresh = new SqliteEventStore({ dataDir });
      try {
        assert.deepEqual(await fresh.readStream('s', { fromRevision: 1 }), fromMemory);
      } finally {
        await fresh.close();
      }
    } finally {
      await subscription.close();
      await store.close();
    }
  });

  test('a stream another store on the file appended to is read at once; another process’s append conflicts, then is read', async () => {
    const dataDir = tempFolder();
    const store = new SqliteEventStore({ dataDir });
    const neighbour = new SqliteEventStore({ dataDir });
    const other = foreignWriter(dataDir);
    const subscription = store.subscribe();
    const ns = (events: RecordedEvent[]) => events.map((e) => (e.data as { n: number }).n);
    try {
      await store.append('s', [event(1)], 'no_stream');
      await nextTurn();
      // Each step below stays within one turn: the store looks for other connections' commits once.
      assert.deepEqual(ns(await store.readStream('s')), [1]);
      // Another store of this process: its append, committed by this read, is read.
      const appended = neighbour.append('s', [event(2)], 0);
      assert.deepEqual(ns(await store.readStream('s', { fromRevision: 1 })), [2]);
      await appended;

      // Another process: an append that expects the revision the store knew is refused, and the stream
      // is then read as it is (a command retried on a conflict decides on what is there).
      // It shares its commit with another append, as under load.
      other.append('s', 3);
      const unrelated = store.append('t', [event(9)], 'any');
      const stale = store.append('s', [event(4)], 1);
      assert.deepEqual(ns(await store.readStream('s', { fromRevision: 2 })), [3]);
      await assert.rejects(stale, ConcurrencyError);
      await unrelated;
      await store.append('s', [event(4)], 2);

      // And after a turn, with no append of this store in between.
      other.append('s', 5);
      await nextTurn();
      assert.deepEqual(ns(await store.readStream('s', { fromRevision: 3 })), [4, 5]);
    } finally {
      await subscription.close();
      other.close();
      await neighbour.close();
      await store.close();
    }
  });

  test('a live subscription gets each event as the table holds it, even one far behind the newest', async () => {
    const store = new SqliteEventStore({ dataDir: tempFolder(), pageSize: 4 });
    const fast = store.subscribe();
    const slow = store.subscribe();
    try {
      const fastReceived: RecordedEvent[] = [];
      const following = (async () => {
        for await (const recorded of fast) {
          fastReceived.push(recorded);
          if (fastReceived.length === 20) break;
        }
      })();
      for (let i = 0; i < 20; i++) {
        // Data as JSON keeps it: a Date becomes its string, an undefined field goes.
        const draft = event(i);
        await store.append(
          `s-${i % 3}`,
          [{ ...draft, data: { n: i, at: new Date(0), gone: undefined } }],
          'any',
        );
      }
      await following;
      // The slow one starts reading only now, 20 events (5 pages) behind.
      const slowReceived: RecordedEvent[] = [];
      for await (const recorded of slow) {
        slowReceived.push(recorded);
        if (slowReceived.length === 20) break;
      }
      const table: RecordedEvent[] = [];
      for await (const recorded of store.readAll()) table.push(recorded);
      assert.equal(table.length, 20);
      assert.deepEqual(table[0]?.data, { n: 0, at: '1970-01-01T00:00:00.000Z' });
      assert.deepEqual(fastReceived, table);
      assert.deepEqual(slowReceived, table);
    } finally {
      await fast.close();
      await slow.close();
      await store.close();
    }
  });

  test('a batch that repeats only some ids already in the stream is refused as a conflict, writing nothing', async () => {
    const store = new SqliteEventStore({ dataDir: tempFolder() });
    try {
      const old = event(1);
      await store.append('s', [old], 'no_stream');
      await assert.rejects(
        store.append('s', [old, event(2)], 0),
        ConcurrencyError,
        'first id known, second new',
      );
      await assert.rejects(
        store.append('s', [event(3), old], 0),
        ConcurrencyError,
        'first id new, second known',
      );
      assert.equal((await store.readStream('s')).length, 1);
      // The same id in another stream is another event.
      assert.equal((await store.append('t', [old], 'no_stream')).revision, 0);
    } finally {
      await store.close();
    }
  });

  test('malformed appends are refused before anything is written', async () => {
    const store = new SqliteEventStore({ dataDir: tempFolder() });
    try {
      const same = event(1);
      await assert.rejects(store.append('s', [same, same], 'no_stream'), /appears twice/);
      await assert.rejects(store.append('', [event(1)], 'no_stream'), /non-empty string/);
      await assert.rejects(store.append('$all', [event(1)], 'any'), /reserved/);
      await assert.rejects(store.append('s', [event(1)], -1), /expected revision/);
      await assert.rejects(store.append('s', [{ ...event(1), id: '' }], 'any'), /non-empty string id/);
      await assert.rejects(store.append('s', [{ ...event(1), version: 0 }], 'any'), /version/);
      assert.equal(await store.headPosition(), -1);
    } finally {
      await store.close();
    }
  });

  test('closing the store ends its live subscriptions and refuses further use', async () => {
    const store = new SqliteEventStore({ dataDir: tempFolder() });
    const subscription = store.subscribe();
    const consumer = (async () => {
      let count = 0;
      for await (const _ of subscription) count++;
      return count;
    })();
    await store.append('s', [event(1)], 'no_stream');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await store.close();
    assert.equal(await consumer, 1);
    await assert.rejects(store.append('s', [event(2)], 0), /closed/);
    await store.close(); // twice is harmless
  });

  test('a file written by a newer schema is refused rather than misread', () => {
    const dataDir = tempFolder();
    const raw = new Database(path.join(dataDir, EVENTS_FILE_NAME));
    raw.pragma('user_version = 99');
    raw.close();
    assert.throws(() => new SqliteEventStore({ dataDir }), /schema 99/);
  });
});
