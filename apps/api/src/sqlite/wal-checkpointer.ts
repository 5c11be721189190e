import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/**
 * How often the background thread copies the WAL into the database file (ms). Once a second: a page
 * that many commits changed meanwhile is copied once (checkpointing every 200 ms cost a third more
 * CPU), and the WAL stays small (a few MB at thousands of commits a second).
 */
export const WAL_CHECKPOINT_INTERVAL_MS = 1_000;

/**
 * Past this much content the WAL is started over (see restartWal). Each restart stalls the event loop a
 * few milliseconds (fsyncs), so it is rare: every ~3 s at bench:api's write rate, rarely in a soak.
 * The file is not truncated (an ftruncate of a WAL this size took 15-35 ms here): it stays at about
 * this size and is written again from its start.
 */
export const WAL_RESTART_BYTES = 64 * 1024 * 1024;

/** What the thread tells the connection that commits. */
export interface WalCheckpointerEvents {
  /** The thread failed or could not start: the committing connection checkpoints again itself. */
  onFailure(reason: string): void;
  /**
   * The WAL holds more than WAL_RESTART_BYTES and a checkpoint has just copied it: restartWal on the
   * committing connection, at a moment none of its transactions is open.
   */
  onWalFull(): void;
}

/**
 * The worker's code, plain JavaScript so that it runs the same from the sources and from the build. A
 * PASSIVE checkpoint copies what it can without waiting for readers or writers: the API's connection
 * keeps committing meanwhile. SQLite reuses the WAL from its start only when a checkpoint has copied
 * every frame before the next commit, which under steady load never happens: the file grew by 100 to
 * 150 MB in a 10-minute soak. Starting it over takes a moment with no writer on it, which only the
 * connection that commits can find without waiting: past WAL_RESTART_BYTES the thread asks it to
 * (onWalFull). The thread did it itself at first (TRUNCATE): the API's commits then slept in SQLite's
 * busy handler (1, 2, 5, 10 ms...) while it synced and truncated, stalls of 20-36 ms.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 0 });
db.pragma('synchronous = NORMAL');
const pageSize = db.pragma('page_size', { simple: true });
const checkpoint = () => {
  try {
    // log: the frames in the WAL (its file is not truncated, so its size says nothing).
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
    if (log * pageSize > workerData.restartBytes) parentPort.postMessage({ walFull: true });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message ? error.message : error) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints a WAL-mode SQLite file from a thread of its own, so that the copy of the WAL into the
 * database file and its fsyncs never stall the event loop. By default SQLite checkpoints inside the
 * commit that fills the WAL past 1000 pages: under load that commit, and every request waiting behind
 * it on the event loop, takes milliseconds to tens of milliseconds longer (bench:api, read models:
 * ~30 commits of ~9 ms every 5 s, p99 26 ms; with the thread none over 3 ms, p99 19 ms). The
 * connection that commits turns its own checkpoints off (`wal_autocheckpoint = 0`) once this has
 * started.
 *
 * Durability is unchanged: a commit is in the WAL before its caller is answered, whoever copies it
 * into the database file later. If the thread cannot start or fails, `onFailure` is called once, so
 * the committing connection can take its checkpoints back.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private failed = false;
  private readonly exited: Promise<void>;

  constructor(
    file: string,
    events: WalCheckpointerEvents,
    intervalMs = WAL_CHECKPOINT_INTERVAL_MS,
    restartBytes = WAL_RESTART_BYTES,
  ) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, driver: require.resolve('better-sqlite3'), intervalMs, restartBytes },
      // The API's loader hooks (e.g. a TypeScript register) are not needed by plain JavaScript.
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    // A background helper: it never keeps the process alive on its own.
    this.worker.unref();
    const fail = (reason: string) => {
      if (this.failed) return;
      this.failed = true;
      events.onFailure(reason);
    };
    this.worker.on('message', (message: { error?: string; walFull?: boolean }) => {
      if (message.error) fail(`WAL checkpoint failed: ${message.error}`);
      else if (message.walFull && !this.failed) events.onWalFull();
    });
    this.worker.on('error', (error) => fail(`WAL checkpoint thread failed: ${error.message}`));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Takes a last checkpoint and ends the thread. */
  async stop(): Promise<void> {
    this.worker.postMessage('stop');
    const timer = setTimeout(() => void this.worker.terminate(), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Moves `db`'s checkpoints to a WalCheckpointer thread: its own commits no longer checkpoint, and do
 * again if the thread fails. When the thread asks, `db` starts the WAL over (restartWal) through
 * `betweenTransactions`: at once by default (the thread's messages arrive between turns of the event
 * loop), or queued behind the transactions of a store whose transactions span turns.
 */
export function checkpointInBackground(
  db: Database.Database,
  file: string,
  betweenTransactions: (restart: () => void) => void = (restart) => restart(),
): WalCheckpointer {
  const checkpointer = new WalCheckpointer(file, {
    onFailure: () => {
      if (db.open) db.pragma('wal_autocheckpoint = 1000'); // SQLite's default
    },
    onWalFull: () =>
      betweenTransactions(() => {
        if (db.open) restartWal(db);
      }),
  });
  db.pragma('wal_autocheckpoint = 0');
  return checkpointer;
}

/**
 * Copies what is left of the WAL and has the next commit write it from its start, from the connection
 * that commits, never waiting: with another connection on the WAL (the thread mid-checkpoint, a
 * reader in another process) it gives up at once, and the next onWalFull tries again. Right after the
 * thread's checkpoint little is left to copy; the fsyncs make it ~5 ms here. Never throws (it runs
 * from the thread's messages, where an exception would end the process): false when the WAL was not
 * started over, e.g. busy or an I/O error, which the next commit meets and reports if it lasts.
 */
export function restartWal(db: Database.Database): boolean {
  try {
    const timeout = db.pragma('busy_timeout', { simple: true }) as number;
    db.pragma('busy_timeout = 0');
    try {
      const [result] = db.pragma('wal_checkpoint(RESTART)') as { busy: number }[];
      return result?.busy === 0;
    } finally {
      db.pragma(`busy_timeout = ${timeout}`);
    }
  } catch {
    return false;
  }
}
