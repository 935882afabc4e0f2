/**
 * WAL checkpoints off the event loop. With `journal_mode = WAL` and `synchronous = NORMAL` a
 * commit appends to the WAL without an fsync; the fsyncs happen when the WAL is checkpointed into
 * the database file. SQLite's automatic checkpoint runs inside whichever COMMIT crosses 1,000 WAL
 * pages, so every few dozen webhook deliveries one acknowledgement waited for two fsyncs (the
 * store's p99). Here the main connection's automatic checkpoint is off and a worker thread, with
 * its own connection to the same file, runs `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`:
 * the same work and the same durability, on another thread. PASSIVE never blocks writers or
 * readers; a checkpoint that overlaps another process's is skipped and retried at the next tick.
 * If the worker dies, the main connection's automatic checkpoint is switched back on, so the WAL
 * never grows without bound. The WAL file's size is bounded too (`walLimitBytes`, 64 MB by default):
 * `journal_size_limit` shrinks it whenever the log restarts, and a TRUNCATE checkpoint empties it
 * when it has grown past the limit anyway.
 */
import type { DatabaseSync } from "node:sqlite";
import { Worker } from "node:worker_threads";

/** SQLite's default `wal_autocheckpoint` (pages). */
const DEFAULT_AUTOCHECKPOINT = 1000;

/** Default bound of the WAL file (bytes): `journal_size_limit`, and the size that triggers a TRUNCATE checkpoint. */
export const DEFAULT_WAL_LIMIT_BYTES = 64 * 1024 * 1024;

// CommonJS source evaluated in the worker (no TypeScript loader needed there). A PASSIVE checkpoint
// every tick; when the WAL file has still grown past the limit (a long reader held the checkpoint
// back, or the ticks fell behind a burst), a TRUNCATE checkpoint empties it. With no busy timeout it
// gives up at once when a writer or a reader is in the way, and the next tick tries again.
const WORKER_SOURCE = `
const { statSync } = require("node:fs");
const { DatabaseSync } = require("node:sqlite");
const { workerData } = require("node:worker_threads");
const db = new DatabaseSync(workerData.path, { timeout: 0 });
db.exec("PRAGMA journal_size_limit = " + workerData.walLimitBytes);
const passive = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const truncate = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
const walSize = () => { try { return statSync(workerData.path + "-wal").size; } catch { return 0; } };
setInterval(() => {
  try {
    passive.get();
    if (walSize() > workerData.walLimitBytes) truncate.get();
  } catch { /* busy or locked: the next tick retries */ }
}, workerData.intervalMs);
`;

export interface WalCheckpointer {
  /** Stops the worker and gives the main connection its automatic checkpoint back. */
  stop(): Promise<void>;
}

/**
 * @example
 * const checkpointer = startWalCheckpointer(db, "./data/octoflow.db");
 * // … on close:
 * await checkpointer.stop();
 */
export function startWalCheckpointer(db: DatabaseSync, path: string, options: { intervalMs?: number; walLimitBytes?: number } = {}): WalCheckpointer {
  let stopped = false;
  const restore = () => {
    if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
  };
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs: options.intervalMs ?? 100, walLimitBytes: options.walLimitBytes ?? DEFAULT_WAL_LIMIT_BYTES } });
  } catch {
    return { stop: async () => undefined };
  }
  worker.unref();
  db.exec("PRAGMA wal_autocheckpoint = 0");
  const fallBack = () => {
    if (!stopped) restore();
  };
  worker.once("error", fallBack);
  worker.once("exit", fallBack);
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      restore();
      await worker.terminate();
    },
  };
}
