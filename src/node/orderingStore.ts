// Per-node ordering state beside the chain database (DATA/ordering.db): for each height,
// the log position after that block (written before the block commits, so the position of
// the head is always there after a crash), and this node's own signed checkpoint of each
// block it committed (served to peers and light clients), and each membership change (the
// block where the member list changed, with state proofs of the list and the records, taken
// when that block was the head: light clients count later organizations with them).

import Database from 'better-sqlite3';
import type { LogPosition } from '../ordering/orderer.js';

export class OrderingStore {
  private readonly db: Database.Database;
  private readonly putPos: Database.Statement;
  private readonly getPos: Database.Statement;
  private readonly putCkpt: Database.Statement;
  private readonly getCkpt: Database.Statement;
  private readonly putEpoch: Database.Statement;
  private readonly getEpochs: Database.Statement;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS positions (height INTEGER PRIMARY KEY, rev INTEGER NOT NULL, skip INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS checkpoints (height INTEGER PRIMARY KEY, body BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS epochs (height INTEGER PRIMARY KEY, body TEXT NOT NULL);
    `);
    this.putEpoch = this.db.prepare('INSERT OR REPLACE INTO epochs (height, body) VALUES (?, ?)');
    this.getEpochs = this.db.prepare('SELECT body FROM epochs WHERE height <= ? ORDER BY height LIMIT 64');
    this.putPos = this.db.prepare('INSERT OR REPLACE INTO positions (height, rev, skip) VALUES (?, ?, ?)');
    this.getPos = this.db.prepare('SELECT rev, skip FROM positions WHERE height = ?');
    this.putCkpt = this.db.prepare('INSERT OR REPLACE INTO checkpoints (height, body) VALUES (?, ?)');
    this.getCkpt = this.db.prepare('SELECT body FROM checkpoints WHERE height = ?');
  }

  setPosition(height: number, p: LogPosition): void {
    this.putPos.run(height, p.rev, p.skip);
  }

  position(height: number): LogPosition | undefined {
    const row = this.getPos.get(height) as { rev: number; skip: number } | undefined;
    return row === undefined ? undefined : { rev: row.rev, skip: row.skip };
  }

  setCheckpoint(height: number, body: Uint8Array): void {
    this.putCkpt.run(height, body);
  }

  checkpoint(height: number): Uint8Array | undefined {
    const row = this.getCkpt.get(height) as { body: Buffer } | undefined;
    return row === undefined ? undefined : new Uint8Array(row.body);
  }

  /** Record a membership change (JSON, without checkpoints: those are gathered when asked). */
  setEpoch(height: number, body: unknown): void {
    this.putEpoch.run(height, JSON.stringify(body));
  }

  /** Membership changes at or below `height`, oldest first (at most 64). */
  epochs(height: number): unknown[] {
    return (this.getEpochs.all(height) as { body: string }[]).map((r) => JSON.parse(r.body) as unknown);
  }

  close(): void {
    this.db.close();
  }
}
