// The SQLite event store's group commit: the `any` appends made in one turn of the event loop are
// committed together, each caller is answered only once its events are committed (also across
// kill -9), one append's failure refuses that append alone, and revision-checked appends (commands)
// are committed before their stream is read again.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import type { NewEvent } from '@custos/domain';
import Database from 'better-sqlite3';
import { ConcurrencyError } from './event-store.port';
import { EVENTS_FILE_NAME, SqliteEventStore } from './sqlite.event-store';

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function tempFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'custos-group-commit-'));
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

/** Rows another connection sees: what is committed. */
function committedRows(dataDir: string): number {
  const db = new Database(path.join(dataDir, EVENTS_FILE_NAME), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('sqlite event store: group commit', () => {
  test('the appends of a turn that need no decision are committed together at its end, in call order', async () => {
    const dataDir = tempFolder();
    const store = new SqliteEventStore({ dataDir });
    try {
      const appends = Array.from({ length: 20 }, (_, i) => store.append(`s-${i % 3}`, [event(i)], 'any'));
      // The turn has not ended: nothing is committed yet, and nobody is answered.
      assert.equal(committedRows(dataDir), 0);
      const results = await Promise.all(appends);
      assert.equal(committedRows(dataDir), 20);
      assert.deepEqual(
        results.map((r) => r.position),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      const all: number[] = [];
      for await (const recorded of store.readAll()) all.push((recorded.data as { n: number }).n);
      assert.deepEqual(
        all,
        Array.from({ length: 20 }, (_, i) => i),
      );
    } finally {
      await store.close();
    }
  });

  test('in one group, an append that fails is refused alone: the others are committed', async () => {
    const dataDir = tempFolder();
    const store = new SqliteEventStore({ dataDir });
    try {
      const known = event(1);
      await store.append('t', [known], 'any');
      const outcomes = await Promise.allSettled([
        store.append('s', [event(2)], 'any'),
        store.append('t', [event(3), known], 'any'), // repeats an id after a new one: a conflict
        store.append('s', [event(4)], 'any'),
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.ok((outcomes[1] as PromiseRejectedResult).reason instanceof ConcurrencyError);
      assert.deepEqual(
        (await store.readStream('s')).map((e) => (e.data as { n: number }).n),
        [2, 4],
      );
      // The refused batch left nothing behind, not even its first (new) event.
      assert.deepEqual(
        (await store.readStream('t')).map((e) => (e.data as { n: number }).n),
        [1],
      );
    } finally {
      await store.close();
    }
  });

  test('appends that check a revision share a commit at the end of the turn; a read of their stream commits them first', async () => {
    const dataDir = tempFolder();
    const store = new SqliteEventStore({ dataDir });
    try {
      const audit = store.append('audit', [event(0)], 'any');
      const first = store.append('s', [event(1)], 'no_stream');
      const other = store.append('t', [event(2)], 'no_stream');
      assert.equal(committedRows(dataDir), 0, 'commands on different streams wait for the turn together');
      // A command reads its stream before it decides: what this process appended to it is committed
      // first (with everything queued before), so the decision is made on it.
      assert.deepEqual(
        (await store.readStream('s')).map((e) => e.revision),
        [0],
      );
      assert.equal(committedRows(dataDir), 3);
      assert.deepEqual([(await audit).position, (await first).position, (await other).position], [1, 2, 3]);
      // Two commands deciding on the same revision in one turn: the second is refused at the commit.
      const winner = store.append('s', [event(3)], 0);
      const loser = store.append('s', [event(4)], 0);
      assert.equal((await winner).revision, 1);
      await assert.rejects(loser, ConcurrencyError);
      assert.equal(committedRows(dataDir), 4);
    } finally {
      await store.close();
    }
  });

  test('closing the store commits the appends still waiting for the end of the turn', async () => {
    const dataDir = tempFolder();
    const store = new SqliteEventStore({ dataDir });
    const appends = Array.from({ length: 5 }, (_, i) => store.append('s', [event(i)], 'any'));
    await store.close();
    assert.equal((await Promise.all(appends)).length, 5);
    assert.equal(committedRows(dataDir), 5);
  });

  test('every answered append survives kill -9 of the process right after the answer', async () => {
    const dataDir = tempFolder();
    // A writer process: rounds of 25 concurrent appends, printing each position once answered.
    const script = `
      const { SqliteEventStore } = require(${JSON.stringify(path.join(__dirname, 'sqlite.event-store.ts'))});
      const store = new SqliteEventStore({ dataDir: ${JSON.stringify(dataDir)} });
      let n = 0;
      const event = () => ({ id: require('node:crypto').randomUUID(), type: 'TestHappened', version: 1,
        data: { n: n++ }, metadata: { actor: 'system', correlationId: 'c', causationId: 'c', occurredAt: 'x' } });
      (async () => {
        for (;;) {
          await Promise.all(Array.from({ length: 25 }, async () => {
            const { position } = await store.append('s-' + (n % 5), [event()], 'any');
            process.stdout.write(position + '\\n');
          }));
        }
      })();
    `;
    const child = spawn(process.execPath, ['-r', '@swc-node/register', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const answered: number[] = [];
    await new Promise<void>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        answered.push(Number(line));
        if (answered.length === 500) {
          child.kill('SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((resolve) => child.once('exit', resolve));

    const store = new SqliteEventStore({ dataDir });
    try {
      const stored = new Set<number>();
      for await (const recorded of store.readAll()) stored.add(recorded.position);
      const lost = answered.filter((position) => !stored.has(position));
      assert.deepEqual(lost, [], 'every position answered before the kill is in the file');
    } finally {
      await store.close();
    }
  });
});
