/**
 * Schema migrations for the SQLite store. Each migration runs once, in order, inside a transaction,
 * and is recorded in `schema_migrations`. Append new migrations; never edit a released one.
 */
import type { DatabaseSync } from "node:sqlite";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "runs, steps, events, deliveries, messages, markers, jobs",
    sql: `
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        workflow TEXT NOT NULL,
        status TEXT NOT NULL,
        concurrency_key TEXT NOT NULL,
        repo TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        data TEXT NOT NULL
      );
      CREATE INDEX runs_active ON runs (concurrency_key, status);
      CREATE INDEX runs_status ON runs (status, created_at);
      CREATE INDEX runs_created ON runs (created_at, seq);
      CREATE UNIQUE INDEX runs_seq ON runs (seq);
      CREATE TABLE steps (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        step_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, step_id)
      );
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        data TEXT NOT NULL
      );
      CREATE INDEX events_run ON events (run_id, id);
      CREATE TABLE deliveries (
        delivery_id TEXT PRIMARY KEY,
        event TEXT NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        context_key TEXT NOT NULL,
        data TEXT NOT NULL
      );
      CREATE INDEX messages_context ON messages (context_key, id);
      CREATE TABLE markers (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE jobs (
        run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        run_at INTEGER NOT NULL,
        -- run_at while waiting, lease_until while leased: one index finds the next claimable job
        available_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        worker_id TEXT,
        lease_until INTEGER,
        requeue INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX jobs_available ON jobs (available_at, seq);
      CREATE UNIQUE INDEX jobs_seq ON jobs (seq);
    `,
  },
  {
    version: 2,
    name: "webhook inbox",
    sql: `
      CREATE TABLE inbox (
        delivery_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        payload TEXT,
        received_at INTEGER NOT NULL,
        -- when it may be claimed next: received_at, a lease's end or a retry time; NULL once done
        available_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        worker_id TEXT,
        trace TEXT
      );
      CREATE INDEX inbox_available ON inbox (available_at) WHERE available_at IS NOT NULL;
    `,
  },
];

/**
 * Brings a database up to the latest schema. Safe to call from several processes at once:
 * the check and the migration happen under one `BEGIN IMMEDIATE` write lock.
 */
export function migrateSqlite(db: DatabaseSync, migrations: readonly Migration[] = SQLITE_MIGRATIONS): number[] {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  const applied: number[] = [];
  db.exec("BEGIN IMMEDIATE");
  try {
    const done = new Set(
      (db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((row) => Number(row.version)),
    );
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      db.exec(migration.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(migration.version, migration.name, Date.now());
      applied.push(migration.version);
    }
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
  return applied;
}
