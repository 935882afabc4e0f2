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
 * never grows without bound.
 */
import type { DatabaseSync } from "node:sqlite";
import { Worker } from "node:worker_threads";

/** SQLite's default `wal_autocheckpoint` (pages). */
const DEFAULT_AUTOCHECKPOINT = 1000;

// CommonJS source evaluated in the worker (no TypeScript loader needed there).
const WORKER_SOURCE = `
const { DatabaseSync } = require("node:sqlite");
const { workerData } = require("node:worker_threads");
const db = new DatabaseSync(workerData.path, { timeout: 0 });
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
setInterval(() => {
  try { checkpoint.get(); } catch { /* busy or locked: the next tick retries */ }
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
export function startWalCheckpointer(db: DatabaseSync, path: string, options: { intervalMs?: number } = {}): WalCheckpointer {
  let stopped = false;
  const restore = () => {
    if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
  };
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs: options.intervalMs ?? 100 } });
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
