import type Database from 'better-sqlite3';

/**
 * Tells whether another connection (of this process or another) committed to a SQLite file since the
 * last look, for a store that keeps what it read in memory. SQLite's `PRAGMA data_version` changes
 * with every commit by another connection and never with the connection's own. A look costs a read
 * transaction, so it is taken at most once per turn of the event loop: what another connection
 * commits is noticed by the next turn.
 */
export class ForeignCommits {
  private readonly dataVersion: Database.Statement<[], number>;
  private seen: number;
  private lookedThisTurn = false;

  constructor(db: Database.Database) {
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.seen = this.dataVersion.get() as number;
  }

  /** True when another connection committed since the last look that answered true. */
  happened(): boolean {
    if (this.lookedThisTurn) return false;
    this.lookedThisTurn = true;
    setImmediate(() => (this.lookedThisTurn = false));
    const version = this.dataVersion.get() as number;
    if (version === this.seen) return false;
    this.seen = version;
    return true;
  }
}
