import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { restartWal, WalCheckpointer } from './wal-checkpointer';

const folder = mkdtempSync(path.join(tmpdir(), 'custos-wal-checkpointer-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A WAL-mode file whose connection never checkpoints itself, and its row insert. */
function walWriter(name: string) {
  const file = path.join(folder, name);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  return { file, db, insert: db.prepare('INSERT INTO t (body) VALUES (?)') };
}

test('the thread copies the WAL into the database file while the writer never checkpoints', async () => {
  const { file, db, insert } = walWriter('copied.sqlite');
  const checkpointer = new WalCheckpointer(
    file,
    { onFailure: (reason) => assert.fail(reason), onWalFull: () => undefined },
    20,
  );
  try {
    const sizeBefore = statSync(file).size;
    for (let i = 0; i < 2_000; i++) insert.run('x'.repeat(2_000));
    // About 4 MB committed to the WAL, none of it by a checkpoint of this connection.
    for (let waited = 0; statSync(file).size < sizeBefore + 4_000_000 && waited < 5_000; waited += 20)
      await sleep(20);
    assert.ok(statSync(file).size >= sizeBefore + 4_000_000, 'the rows reached the database file');
    // And a checkpoint now finds nothing left to copy.
    const [{ log, checkpointed }] = db.pragma('wal_checkpoint(PASSIVE)') as {
      log: number;
      checkpointed: number;
    }[] as [{ log: number; checkpointed: number }];
    assert.equal(checkpointed, log);
  } finally {
    await checkpointer.stop();
    db.close();
  }
});

test('under steady writes the writer starts the WAL over when the thread asks: its file stays near its limit, no row is lost', async () => {
  const { file, db, insert } = walWriter('steady.sqlite');
  const reader = new Database(file, { readonly: true });
  const count = reader.prepare('SELECT count(*) AS n FROM t');
  const limit = 1024 * 1024;
  let asked = 0;
  const checkpointer = new WalCheckpointer(
    file,
    {
      onFailure: (reason) => assert.fail(reason),
      onWalFull: () => {
        asked++;
        restartWal(db);
      },
    },
    20,
    limit,
  );
  let written = 0;
  try {
    // A commit every turn of the event loop, with reads in between, until ten times the limit went by.
    for (let turn = 0; written * 1_000 < 10 * limit; turn++) {
      insert.run('x'.repeat(1_000));
      written++;
      count.get();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(asked > 0, 'the thread asked for a restart');
    const size = statSync(`${file}-wal`).size;
    // Past the limit by what comes in between two looks of the thread; ~50 MB without the restarts.
    assert.ok(size < 5 * limit, `the WAL file stays near its limit (${size} bytes after ${written} KB)`);
    assert.equal((count.get() as { n: number }).n, written);
  } finally {
    await checkpointer.stop();
    reader.close();
    db.close();
  }
});

test('a thread that cannot open the file reports it once, so the writer can checkpoint again', async () => {
  const reasons: string[] = [];
  const checkpointer = new WalCheckpointer(path.join(folder, 'missing', 'nothing.sqlite'), {
    onFailure: (reason) => reasons.push(reason),
    onWalFull: () => assert.fail('the thread never opened the file: nothing to restart'),
  });
  for (let waited = 0; reasons.length === 0 && waited < 5_000; waited += 20) await sleep(20);
  await checkpointer.stop();
  assert.equal(reasons.length, 1);
  assert.match(reasons[0] ?? '', /WAL checkpoint thread failed/);
});

test('the thread never starts the WAL over itself: it asks, and a writer that does not leaves it growing', async () => {
  const { file, db, insert } = walWriter('asks.sqlite');
  const limit = 256 * 1024;
  let asked = 0;
  const checkpointer = new WalCheckpointer(
    file,
    { onFailure: (reason) => assert.fail(reason), onWalFull: () => asked++ },
    20,
    limit,
  );
  try {
    for (let i = 0; i < 400; i++) insert.run('x'.repeat(2_000));
    for (let waited = 0; asked === 0 && waited < 5_000; waited += 20) await sleep(20);
    assert.ok(asked > 0, 'the thread said the WAL is past its limit');
    assert.ok(statSync(`${file}-wal`).size > limit, 'and left the WAL as it was');
  } finally {
    await checkpointer.stop();
    db.close();
  }
});

test('restartWal never throws: false when it could not start the WAL over (busy, or the connection gone)', () => {
  const { db, insert } = walWriter('restart.sqlite');
  insert.run('x');
  const other = new Database(db.name);
  try {
    other.exec('BEGIN IMMEDIATE'); // a writer elsewhere holds the WAL
    assert.equal(restartWal(db), false);
    assert.equal(db.pragma('busy_timeout', { simple: true }), 5000, 'its own busy timeout is back');
    other.exec('COMMIT');
    assert.equal(restartWal(db), true);
  } finally {
    other.close();
    db.close();
  }
  assert.equal(restartWal(db), false);
});
