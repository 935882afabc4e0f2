/**
 * RunStore over `node:sqlite` (D2): one file, WAL journal, migrations, JSON columns for the
 * plan / trigger / outputs. Every read-modify-write happens under `BEGIN IMMEDIATE`, so several
 * processes may share the file safely (the SQLite write lock serialises them).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { MESSAGES_KEPT_PER_CONTEXT, type ConversationMessage, type InboxDelivery, type ListRunsQuery, type QueueJob, type RunStore } from "../workflows/ports.ts";
import type { RunEvent, RunId, RunRecord, RunStatus, StepRecord } from "../workflows/types.ts";
import { ACTIVE_RUN_STATUSES, TERMINAL_RUN_STATUSES } from "../workflows/types.ts";
import { applyPatch, wholeLimit } from "./memory-run-store.ts";
import { DEFAULT_WAL_LIMIT_BYTES, startWalCheckpointer } from "./sqlite-checkpointer.ts";
import { migrateSqlite } from "./sqlite-migrations.ts";

export interface SqliteRunStoreOptions {
  /** File path, or `:memory:`. Parent directories are created. */
  path: string;
  /** How long a writer waits for the lock held by another process (default 5 s). */
  busyTimeoutMs?: number;
  /** Checkpoint the WAL from a worker thread instead of inside a commit (default true for files). */
  checkpointInWorker?: boolean;
  /** Bound of the WAL file in bytes (default 64 MB; see `sqlite-checkpointer.ts`). */
  walLimitBytes?: number;
  /**
   * Longest time one group-commit transaction spends running its writes (default 4 ms): writes
   * beyond it go into the next transaction, on a later event-loop turn, so a burst of thousands of
   * writes never holds the event loop for one long synchronous transaction.
   */
  batchBudgetMs?: number;
  /** Most writes in one group-commit transaction (default 512). */
  maxBatch?: number;
}

const ACTIVE: readonly RunStatus[] = ACTIVE_RUN_STATUSES;
const TERMINAL_SQL = TERMINAL_RUN_STATUSES.map((s) => `'${s}'`).join(", ");

/**
 * Opens (creating and migrating when needed) a SQLite run store.
 *
 * @example
 * const store = createSqliteRunStore({ path: "./data/octoflow.db" });
 */
export function createSqliteRunStore(options: SqliteRunStoreOptions): RunStore {
  if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
  const db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
  const walLimitBytes = options.walLimitBytes ?? DEFAULT_WAL_LIMIT_BYTES;
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = ${Math.floor(walLimitBytes)};`);
  migrateSqlite(db);
  const checkpointer = options.path !== ":memory:" && options.checkpointInWorker !== false ? startWalCheckpointer(db, options.path, { walLimitBytes }) : undefined;
  const batchBudgetMs = options.batchBudgetMs ?? 4;
  const maxBatch = options.maxBatch ?? 512;
  let closed = false;

  const statements = new Map<string, ReturnType<DatabaseSync["prepare"]>>();
  const sql = (text: string) => {
    let statement = statements.get(text);
    if (!statement) {
      statement = db.prepare(text);
      statements.set(text, statement);
    }
    return statement;
  };
  const run = (text: string, ...params: SQLInputValue[]) => sql(text).run(...params);
  const get = <T>(text: string, ...params: SQLInputValue[]) => sql(text).get(...params) as T | undefined;
  const all = <T>(text: string, ...params: SQLInputValue[]) => sql(text).all(...params) as T[];

  /**
   * Group commit: writes issued during one event-loop turn run in ONE `BEGIN IMMEDIATE` transaction
   * (each inside its own savepoint, so one failing write does not undo the others). A write's
   * promise settles only after its transaction committed, so it is durable when awaited. A batch is
   * bounded (`maxBatch` writes, `batchBudgetMs` of work): what is left waits for the next turn, so
   * the event loop is never held by one long transaction.
   */
  type PendingWrite = { fn: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void };
  let pending: PendingWrite[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const flush = (unbounded = false) => {
    scheduled = undefined;
    if (pending.length === 0) return;
    let batch = pending;
    pending = [];
    try {
      db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    const only = batch.length === 1 ? batch[0] : undefined;
    if (only) {
      let value: unknown;
      try {
        value = only.fn();
        db.exec("COMMIT");
      } catch (error) {
        if (db.isTransaction) db.exec("ROLLBACK");
        only.reject(error);
        return;
      }
      only.resolve(value);
      return;
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    const deadline = performance.now() + batchBudgetMs;
    for (const item of batch) {
      sql("SAVEPOINT write").run();
      try {
        outcomes.push({ ok: true, value: item.fn() });
        sql("RELEASE write").run();
      } catch (error) {
        sql("ROLLBACK TO write").run();
        sql("RELEASE write").run();
        outcomes.push({ ok: false, value: error });
      }
      if (!unbounded && outcomes.length < batch.length && (outcomes.length >= maxBatch || performance.now() >= deadline)) {
        // the rest goes first into the next transaction, ahead of writes issued since
        pending = [...batch.slice(outcomes.length), ...pending];
        batch = batch.slice(0, outcomes.length);
        scheduled = setImmediate(() => flush());
        break;
      }
    }
    try {
      db.exec("COMMIT");
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) item.resolve(outcome.value);
      else item.reject(outcome?.value);
    });
  };
  const tx = <T>(fn: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (closed) {
        reject(new Error("the run store is closed"));
        return;
      }
      pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      scheduled ??= setImmediate(() => flush());
    });
  const read = <T>(fn: () => T): T => {
    if (closed) throw new Error("the run store is closed");
    return fn();
  };

  const parseRun = (row: { data: string } | undefined): RunRecord | undefined => (row ? (JSON.parse(row.data) as RunRecord) : undefined);
  const loadRun = (id: RunId) => parseRun(get<{ data: string }>("SELECT data FROM runs WHERE id = ?", id));
  const saveRun = (record: RunRecord) =>
    run("UPDATE runs SET status = ?, workflow = ?, concurrency_key = ?, data = ? WHERE id = ?", record.status, record.workflow, record.concurrencyKey, JSON.stringify(record), record.id);
  const nextSeq = () => Number(get<{ seq: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM runs")?.seq ?? 1);
  const nextJobSeq = () => Number(get<{ seq: number }>("SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM jobs")?.seq ?? 1);

  const store: RunStore = {
    async createRun(record, steps, opts = {}) {
      await tx(() => {
        if (get("SELECT 1 AS x FROM runs WHERE id = ?", record.id)) throw new Error(`run ${record.id} already exists`);
        const repo = `${record.trigger.repo.owner}/${record.trigger.repo.name}`;
        run(
          "INSERT INTO runs (id, seq, workflow, status, concurrency_key, repo, created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          record.id, nextSeq(), record.workflow, record.status, record.concurrencyKey, repo, record.createdAt, JSON.stringify(record),
        );
        steps.forEach((step, position) =>
          run("INSERT INTO steps (run_id, step_id, position, data) VALUES (?, ?, ?, ?)", record.id, step.stepId, position, JSON.stringify(step)),
        );
        if (opts.enqueue) run("INSERT INTO jobs (run_id, seq, run_at, available_at) VALUES (?, ?, ?, ?)", record.id, nextJobSeq(), record.createdAt, record.createdAt);
      });
    },
    async getRun(id) {
      return read(() => loadRun(id));
    },
    async getRunStatus(id) {
      return read(() => get<{ status: RunStatus }>("SELECT status FROM runs WHERE id = ?", id)?.status);
    },
    async listRuns(query: ListRunsQuery = {}) {
      return read(() => {
        const where: string[] = [];
        const params: SQLInputValue[] = [];
        for (const [column, value] of [["status", query.status], ["workflow", query.workflow], ["repo", query.repo]] as const) {
          if (value === undefined) continue;
          where.push(`${column} = ?`);
          params.push(value);
        }
        const limit = wholeLimit(query.limit, 50, 1000);
        const text = `SELECT data FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, seq DESC LIMIT ${limit}`;
        return all<{ data: string }>(text, ...params).map((row) => JSON.parse(row.data) as RunRecord);
      });
    },
    async updateRun(id, patch) {
      await tx(() => {
        const current = loadRun(id);
        if (!current) throw new Error(`run ${id} does not exist`);
        saveRun(applyPatch(current, patch));
      });
    },
    async transitionRun(id, from, to, patch = {}) {
      return tx(() => {
        const current = loadRun(id);
        if (!current || !from.includes(current.status)) return false;
        saveRun({ ...applyPatch(current, patch), status: to });
        return true;
      });
    },
    async findActiveRuns(concurrencyKey) {
      return read(() =>
        all<{ data: string }>(
          `SELECT data FROM runs WHERE concurrency_key = ? AND status IN (${ACTIVE.map(() => "?").join(", ")}) ORDER BY created_at, seq`,
          concurrencyKey, ...ACTIVE,
        ).map((row) => JSON.parse(row.data) as RunRecord),
      );
    },
    async listUnfinishedRuns() {
      return read(() =>
        all<{ data: string }>(
          `SELECT data FROM runs WHERE status NOT IN (${TERMINAL_SQL}, 'waiting') OR (status = 'cancelled' AND json_extract(data, '$.finishedAt') IS NULL) ORDER BY created_at, seq`,
        ).map((row) => JSON.parse(row.data) as RunRecord),
      );
    },
    async finishRun(id, from, event, patch = {}) {
      return tx(() => {
        const current = loadRun(id);
        if (!current || !from.includes(current.status)) return false;
        if (TERMINAL_RUN_STATUSES.includes(current.status) && current.finishedAt !== undefined) return false;
        saveRun({ ...applyPatch(current, { finishedAt: event.at, ...patch }), status: event.status });
        run("INSERT INTO events (run_id, data) VALUES (?, ?)", id, JSON.stringify(event));
        return true;
      });
    },
    async getSteps(runId) {
      return read(() =>
        all<{ data: string }>("SELECT data FROM steps WHERE run_id = ? ORDER BY position", runId).map((row) => JSON.parse(row.data) as StepRecord),
      );
    },
    async updateStep(runId, stepId, patch) {
      await tx(() => {
        const row = get<{ data: string }>("SELECT data FROM steps WHERE run_id = ? AND step_id = ?", runId, stepId);
        if (!row) throw new Error(`step ${stepId} of run ${runId} does not exist`);
        const next = applyPatch(JSON.parse(row.data) as StepRecord, patch);
        run("UPDATE steps SET data = ? WHERE run_id = ? AND step_id = ?", JSON.stringify(next), runId, stepId);
      });
    },
    async appendEvent(event) {
      // The foreign key refuses events of unknown runs.
      await tx(() => run("INSERT INTO events (run_id, data) VALUES (?, ?)", event.runId, JSON.stringify(event)));
    },
    async listEvents(runId, opts = {}) {
      return read(() => {
        const rows =
          opts.limit === undefined
            ? all<{ data: string }>("SELECT data FROM events WHERE run_id = ? ORDER BY id", runId)
            : all<{ data: string }>("SELECT data FROM (SELECT id, data FROM events WHERE run_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id", runId, wholeLimit(opts.limit, -1, Number.MAX_SAFE_INTEGER));
        return rows.map((row) => JSON.parse(row.data) as RunEvent);
      });
    },
    async recordDelivery(deliveryId, event) {
      return tx(() => Number(run("INSERT OR IGNORE INTO deliveries (delivery_id, event, received_at) VALUES (?, ?, ?)", deliveryId, event, Date.now()).changes) === 1);
    },
    async acceptDelivery(delivery, now) {
      return tx(
        () =>
          Number(
            run(
              "INSERT OR IGNORE INTO inbox (delivery_id, name, payload, received_at, available_at, trace) VALUES (?, ?, ?, ?, ?, ?)",
              delivery.id, delivery.name, delivery.payload, now, now, delivery.trace ? JSON.stringify(delivery.trace) : null,
            )
              .changes,
          ) === 1,
      );
    },
    async claimDelivery(workerId, now, leaseMs) {
      return tx(() => {
        const row = get<{ delivery_id: string; name: string; payload: string; attempts: number; trace: string | null }>(
          "SELECT delivery_id, name, payload, attempts, trace FROM inbox WHERE available_at IS NOT NULL AND available_at <= ? ORDER BY available_at, rowid LIMIT 1",
          now,
        );
        if (!row) return undefined;
        run("UPDATE inbox SET worker_id = ?, available_at = ?, attempts = attempts + 1 WHERE delivery_id = ?", workerId, now + leaseMs, row.delivery_id);
        const delivery: InboxDelivery = { id: row.delivery_id, name: row.name, payload: row.payload, attempts: Number(row.attempts) + 1 };
        if (row.trace) delivery.trace = JSON.parse(row.trace) as Record<string, string>;
        return delivery;
      });
    },
    async finishDelivery(id, workerId, retryAt) {
      return tx(() =>
        retryAt === undefined
          ? Number(run("UPDATE inbox SET payload = NULL, available_at = NULL, worker_id = NULL WHERE delivery_id = ? AND worker_id = ?", id, workerId).changes) === 1
          : Number(run("UPDATE inbox SET available_at = ?, worker_id = NULL WHERE delivery_id = ? AND worker_id = ?", retryAt, id, workerId).changes) === 1,
      );
    },
    async appendMessage(contextKey, message) {
      await tx(() => {
        run("INSERT INTO messages (context_key, data) VALUES (?, ?)", contextKey, JSON.stringify(message));
        // retention: the newest MESSAGES_KEPT_PER_CONTEXT of the key stay
        run(
          "DELETE FROM messages WHERE context_key = ? AND id <= (SELECT id FROM messages WHERE context_key = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
          contextKey, contextKey, MESSAGES_KEPT_PER_CONTEXT,
        );
      });
    },
    async listMessages(contextKey, opts = {}) {
      return read(() => {
        const limit = wholeLimit(opts.limit, -1, Number.MAX_SAFE_INTEGER);
        const rows =
          limit === -1
            ? all<{ data: string }>("SELECT data FROM messages WHERE context_key = ? ORDER BY id", contextKey)
            : all<{ data: string }>("SELECT data FROM (SELECT id, data FROM messages WHERE context_key = ? ORDER BY id DESC LIMIT ?) ORDER BY id", contextKey, limit);
        return rows.map((row) => JSON.parse(row.data) as ConversationMessage);
      });
    },
    async getMarker(key) {
      return read(() => get<{ value: string }>("SELECT value FROM markers WHERE key = ?", key)?.value);
    },
    async putMarkerIfAbsent(key, value) {
      return tx(() => {
        run("INSERT OR IGNORE INTO markers (key, value) VALUES (?, ?)", key, value);
        return get<{ value: string }>("SELECT value FROM markers WHERE key = ?", key)?.value ?? value;
      });
    },
    async setMarker(key, value) {
      await tx(() => run("INSERT INTO markers (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value));
    },
    async enqueueJob(runId, runAt) {
      await tx(() => {
        if (!get("SELECT 1 AS x FROM runs WHERE id = ?", runId)) throw new Error(`run ${runId} does not exist`);
        const job = get<{ worker_id: string | null }>("SELECT worker_id FROM jobs WHERE run_id = ?", runId);
        if (!job) run("INSERT INTO jobs (run_id, seq, run_at, available_at) VALUES (?, ?, ?, ?)", runId, nextJobSeq(), runAt, runAt);
        // leased: runs again when released, at the earliest time asked for during this lease
        else if (job.worker_id !== null) run("UPDATE jobs SET run_at = CASE WHEN requeue = 1 THEN MIN(run_at, ?) ELSE ? END, requeue = 1 WHERE run_id = ?", runAt, runAt, runId);
        else run("UPDATE jobs SET run_at = MIN(run_at, ?), available_at = MIN(run_at, ?) WHERE run_id = ?", runAt, runAt, runId);
      });
    },
    async claimJob(workerId, now, leaseMs) {
      return tx(() => {
        const row = get<{ run_id: string; run_at: number; attempts: number }>(
          "SELECT run_id, run_at, attempts FROM jobs WHERE available_at <= ? ORDER BY available_at, seq LIMIT 1",
          now,
        );
        if (!row) return undefined;
        run("UPDATE jobs SET worker_id = ?, lease_until = ?, available_at = ?, attempts = attempts + 1, requeue = 0 WHERE run_id = ?", workerId, now + leaseMs, now + leaseMs, row.run_id);
        const job: QueueJob = { runId: row.run_id as RunId, attempts: Number(row.attempts) + 1, runAt: Number(row.run_at) };
        return job;
      });
    },
    async renewJob(runId, workerId, now, leaseMs) {
      return tx(() => Number(run("UPDATE jobs SET lease_until = ?, available_at = ? WHERE run_id = ? AND worker_id = ?", now + leaseMs, now + leaseMs, runId, workerId).changes) === 1);
    },
    async completeJob(runId, workerId) {
      return tx(() => {
        // only the current lease holder: a stale worker's complete touches nothing
        const deleted = Number(run("DELETE FROM jobs WHERE run_id = ? AND worker_id = ? AND requeue = 0", runId, workerId).changes);
        const released = Number(
          run("UPDATE jobs SET requeue = 0, worker_id = NULL, lease_until = NULL, available_at = run_at WHERE run_id = ? AND worker_id = ? AND requeue = 1", runId, workerId).changes,
        );
        return deleted + released > 0;
      });
    },
    async queueStats(now) {
      return read(() => {
        const row = get<{ depth: number; oldest: number | null }>(
          "SELECT COUNT(*) AS depth, MIN(run_at) AS oldest FROM jobs WHERE available_at <= ?",
          now,
        );
        const depth = Number(row?.depth ?? 0);
        return { depth, oldestAgeMs: depth === 0 || row?.oldest == null ? 0 : Math.max(0, now - Number(row.oldest)) };
      });
    },
    async ping() {
      read(() => get("SELECT 1 AS ok"));
    },
    async close() {
      if (closed) return;
      if (scheduled) clearImmediate(scheduled);
      flush(true);
      closed = true;
      await checkpointer?.stop();
      db.close();
    },
  };
  return store;
}
