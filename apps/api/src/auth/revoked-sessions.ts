import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import Database from 'better-sqlite3';

/** The file under CUSTOS_DATA_DIR that holds the signed-out sessions. */
export const REVOKED_SESSIONS_FILE_NAME = 'revoked-sessions.sqlite';
/** Most revoked, unexpired tokens remembered at once; beyond it sign-out answers 503. */
export const MAX_REVOKED_TOKENS = 100_000;

/**
 * The session tokens signed out before they expire (by jti), in a SQLite file under
 * CUSTOS_DATA_DIR, so that a sign-out survives a restart as the tokens do when
 * AUTH_TOKEN_SECRET is fixed. A row is kept only until its token would have
 * expired anyway.
 *
 * Every revocation is also held in memory: checking a token stays synchronous and
 * I/O-free, as the Authenticator port requires. The file is only read at start.
 * Several API processes on separate data folders do not see each other's
 * sign-outs; a shared list would be needed for that.
 */
export class RevokedSessions implements OnModuleDestroy {
  private readonly db: Database.Database;
  /** jti → expiry (ms since the epoch): the rows of the file. */
  private readonly revoked = new Map<string, number>();
  private readonly insert: Database.Statement<[string, number]>;
  private readonly deleteExpired: Database.Statement<[number]>;

  constructor(
    dataDir: string,
    now: number,
    private readonly capacity: number = MAX_REVOKED_TOKENS,
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(path.join(dataDir, REVOKED_SESSIONS_FILE_NAME));
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS revoked_sessions (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID',
      );
      this.insert = this.db.prepare(
        'INSERT OR REPLACE INTO revoked_sessions (jti, expires_at) VALUES (?, ?)',
      );
      this.deleteExpired = this.db.prepare('DELETE FROM revoked_sessions WHERE expires_at <= ?');
      this.deleteExpired.run(now);
      const rows = this.db.prepare('SELECT jti, expires_at FROM revoked_sessions').all() as {
        jti: string;
        expires_at: number;
      }[];
      for (const row of rows) this.revoked.set(row.jti, row.expires_at);
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /** Tokens remembered (expired ones included until pruned). */
  get size(): number {
    return this.revoked.size;
  }

  has(jti: string): boolean {
    return this.revoked.has(jti);
  }

  /** Remembers `jti` until `expiresAt` (ms); written to the file before it returns. */
  add(jti: string, expiresAt: number, now: number): void {
    if (this.revoked.size >= this.capacity / 2) this.prune(now);
    if (this.revoked.size >= this.capacity) {
      throw new ServiceUnavailableException('Too many sign-outs at once; try again in a minute.');
    }
    this.insert.run(jti, expiresAt);
    this.revoked.set(jti, expiresAt);
  }

  onModuleDestroy(): void {
    if (this.db.open) this.db.close();
  }

  private prune(now: number): void {
    this.deleteExpired.run(now);
    for (const [jti, expiresAt] of this.revoked) if (expiresAt <= now) this.revoked.delete(jti);
  }
}
