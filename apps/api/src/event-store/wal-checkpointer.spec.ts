import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { WalCheckpointer } from './wal-checkpointer';

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
  const checkpointer = new WalCheckpointer(file, (reason) => assert.fail(reason), 20);
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

test('under steady writes, a WAL past its limit is started over and truncated; no row is lost', async () => {
  const { file, db, insert } = walWriter('steady.sqlite');
  const reader = new Database(file, { readonly: true });
  const count = reader.prepare('SELECT count(*) AS n FROM t');
  const limit = 1024 * 1024;
  const checkpointer = new WalCheckpointer(file, (reason) => assert.fail(reason), 20, limit);
  const walSize = () => statSync(`${file}-wal`).size;
  let written = 0;
  let largest = 0;
  let restarted = false;
  try {
    // A commit every turn of the event loop, with reads in between, for as long as it takes.
    for (let turn = 0; turn < 20_000 && !restarted; turn++) {
      insert.run('x'.repeat(1_000));
      written++;
      count.get();
      const size = walSize();
      largest = Math.max(largest, size);
      restarted = largest > limit && size < limit / 2;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(restarted, `the WAL went past ${limit} bytes (largest ${largest}) and was started over`);
    assert.equal((count.get() as { n: number }).n, written);
  } finally {
    await checkpointer.stop();
    reader.close();
    db.close();
  }
});

test('a thread that cannot open the file reports it once, so the writer can checkpoint again', async () => {
  const reasons: string[] = [];
  const checkpointer = new WalCheckpointer(path.join(folder, 'missing', 'nothing.sqlite'), (reason) =>
    reasons.push(reason),
  );
  for (let waited = 0; reasons.length === 0 && waited < 5_000; waited += 20) await sleep(20);
  await checkpointer.stop();
  assert.equal(reasons.length, 1);
  assert.match(reasons[0] ?? '', /WAL checkpoint thread failed/);
});
