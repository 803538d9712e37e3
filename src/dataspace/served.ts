// The access ids a provider has served, in DATA/served.db, so that a restart does not allow
// one more delivery under an access it already served (a replay). An id is kept until its
// authorization lapses (after that the chain refuses the access anyway). Bounded: with
// `max` ids kept and none lapsed, a new delivery is refused (UNAVAILABLE) until some lapse.
// WAL with synchronous=NORMAL: a claim survives a crash of the process (not of the machine),
// and the `delivered` outcome the provider then records on chain is the durable second guard.

import Database from 'better-sqlite3';
import { CredenceError, Codes } from '../util/errors.js';

export const SERVED_MAX = 100_000;

export class ServedAccesses {
  private readonly db: Database.Database;
  private readonly has: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly prune: Database.Statement;
  private size: number;

  /** `path` ':memory:' keeps nothing across restarts (tests). */
  constructor(
    path: string,
    private readonly max = SERVED_MAX,
  ) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS served (access_id TEXT PRIMARY KEY, until INTEGER NOT NULL) WITHOUT ROWID');
    this.has = this.db.prepare('SELECT 1 FROM served WHERE access_id = ?');
    this.insert = this.db.prepare('INSERT INTO served (access_id, until) VALUES (?, ?)');
    this.remove = this.db.prepare('DELETE FROM served WHERE access_id = ?');
    this.prune = this.db.prepare('DELETE FROM served WHERE until < ?');
    this.size = (this.db.prepare('SELECT count(*) AS n FROM served').get() as { n: number }).n;
  }

  /** Claim an access for one delivery; throws ACCESS_REPLAYED if it was served before. */
  claim(accessId: string, validUntil: number, now: number): void {
    if (this.has.get(accessId) !== undefined)
      throw new CredenceError('ACCESS_REPLAYED', 'this access was already served by this provider; request access again');
    if (this.size >= this.max) this.size -= this.prune.run(now).changes;
    if (this.size >= this.max) throw new CredenceError(Codes.UNAVAILABLE, 'too many deliveries in flight; retry later');
    this.insert.run(accessId, validUntil);
    this.size++;
  }

  /** Give a claim back (the delivery failed before anything was sent). */
  release(accessId: string): void {
    this.size -= this.remove.run(accessId).changes;
  }

  close(): void {
    this.db.close();
  }
}
