// Per-node ordering state beside the chain database (DATA/ordering.db): for each height,
// the log position after that block (written before the block commits, so the position of
// the head is always there after a crash), and this node's own signed checkpoint of each
// block it committed (served to peers and light clients).

import Database from 'better-sqlite3';
import type { LogPosition } from '../ordering/orderer.js';

export class OrderingStore {
  private readonly db: Database.Database;
  private readonly putPos: Database.Statement;
  private readonly getPos: Database.Statement;
  private readonly putCkpt: Database.Statement;
  private readonly getCkpt: Database.Statement;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS positions (height INTEGER PRIMARY KEY, rev INTEGER NOT NULL, skip INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS checkpoints (height INTEGER PRIMARY KEY, body BLOB NOT NULL);
    `);
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

  close(): void {
    this.db.close();
  }
}
