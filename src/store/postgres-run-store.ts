/**
 * PostgreSQL RunStore: the store every replica of a fleet shares. Records are JSONB with the
 * queried fields as generated columns; every state change that two replicas may race on is one
 * atomic statement (`transitionRun`, `putMarkerIfAbsent`, `recordDelivery`, `claimJob`).
 * It passes the same conformance suite as the SQLite and in-memory stores.
 */
import pg from "pg";
import type { Pool, PoolClient } from "pg";
import { MESSAGES_KEPT_PER_CONTEXT, type ConversationMessage, type InboxDelivery, type ListRunsQuery, type RunStore } from "../workflows/ports.ts";
import type { RunEvent, RunRecord, StepRecord } from "../workflows/types.ts";
import { wholeLimit } from "./memory-run-store.ts";
import { migratePostgres, quoteIdent } from "./postgres-migrations.ts";
import { createPostgresJobs, type TransactionalEnqueuer } from "./postgres-jobs.ts";

export type { TransactionalEnqueuer } from "./postgres-jobs.ts";

export interface PostgresRunStoreOptions {
  /** `postgres://…`; ignored when `pool` is given. */
  connectionString?: string;
  /** Schema holding Octoflow's tables; default `octoflow`. */
  schema?: string;
  /** An existing pool (not closed by `close()`). */
  pool?: Pool;
  /** Pool size when the store creates its pool; default 10. */
  max?: number;
  /** How long getting a connection may take before the query fails; default 10 000 ms. */
  connectionTimeoutMs?: number;
  /** Run migrations on open; default true. */
  migrate?: boolean;
}

export interface PostgresRunStore extends RunStore {
  readonly pool: Pool;
  readonly schema: string;
  /** Runs `fn` in one transaction on one pooled connection. */
  transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
  /**
   * Routes `createRun(…, { enqueue: true })` and `enqueueJob` to another queue (pg-boss) inside the
   * same transaction; `undefined` restores the built-in job table.
   */
  setEnqueuer(enqueuer: TransactionalEnqueuer | undefined): void;
}

const TERMINAL = ["succeeded", "failed", "cancelled"];

/** Splits a patch into the JSON to merge and the keys to remove (`undefined` clears a field). */
function splitPatch(patch: object, protectedKeys: readonly string[]): { merge: string; remove: string[] } {
  const merge: Record<string, unknown> = {};
  const remove: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (protectedKeys.includes(key)) continue;
    if (value === undefined) remove.push(key);
    else merge[key] = value;
  }
  return { merge: toJson(merge), remove };
}

/**
 * JSON for a jsonb parameter. PostgreSQL text cannot hold U+0000, which a model's output may
 * contain; it is stored as U+FFFD instead of failing the write (and with it the run).
 */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "string" && v.includes("\u0000") ? v.replaceAll("\u0000", "\uFFFD") : v));
}

const isUniqueViolation = (error: unknown): boolean => (error as { code?: string } | null)?.code === "23505";

/**
 * Opens the store (creating a pool unless one is given) and applies pending migrations.
 *
 * @example
 * const store = await createPostgresRunStore({ connectionString: process.env.DATABASE_URL });
 * const engine = createEngine({ store, queue: await createPgBossQueue({ store }), ... });
 */
export async function createPostgresRunStore(options: PostgresRunStoreOptions): Promise<PostgresRunStore> {
  const schema = options.schema ?? "octoflow";
  const s = quoteIdent(schema);
  const ownsPool = options.pool === undefined;
  if (!options.pool && !options.connectionString) throw new Error("createPostgresRunStore needs a connectionString or a pool");
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      application_name: "octoflow",
      // a server that accepts the connection but never answers (or a dropped route) fails the query
      // instead of hanging start-up or a webhook forever
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    });
  if (ownsPool) pool.on("error", () => undefined); // an idle client lost its connection; the next query reconnects
  if (options.migrate !== false) {
    try {
      await migratePostgres(pool, schema);
    } catch (error) {
      if (ownsPool) await pool.end().catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`cannot open the PostgreSQL store (schema ${schema}): ${reason}`, { cause: error });
    }
  }
  let enqueuer: TransactionalEnqueuer | undefined;
  let closed = false;

  const check = (): void => {
    if (closed) throw new Error("the run store is closed");
  };
  /** Every statement is a named prepared statement: parsed and planned once per connection. */
  const names = new Map<string, string>();
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => {
    check();
    let name = names.get(text);
    if (name === undefined) {
      name = `octoflow_${names.size + 1}`;
      names.set(text, name);
    }
    return pool.query<R>({ name, text, values });
  };
  const transaction = async <T>(fn: (client: PoolClient) => Promise<T>): Promise<T> => {
    check();
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      // a connection that cannot even roll back is dropped instead of going back to the pool
      await client.query("ROLLBACK").catch((rollbackError: unknown) => (broken = rollbackError as Error));
      throw error;
    } finally {
      client.release(broken);
    }
  };

  const insertRunSql = `
    WITH r AS (INSERT INTO ${s}.runs (id, record) VALUES ($1, $2::jsonb) RETURNING id),
         st AS (
           INSERT INTO ${s}.steps (run_id, step_id, ordinal, record)
           SELECT (SELECT id FROM r), x->>'stepId', (o - 1)::int, x FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS t(x, o)
         ),
         j AS (INSERT INTO ${s}.jobs (run_id, run_at) SELECT id, $5 FROM r WHERE $4::boolean)
    SELECT id FROM r`;

  const jobs = createPostgresJobs({ s, query, transaction, enqueuer: () => enqueuer });
  const store: PostgresRunStore = {
    pool,
    schema,
    transaction,
    setEnqueuer(next) {
      enqueuer = next;
    },

    async createRun(run, steps, options = {}) {
      const values = [run.id, toJson(run), toJson(steps)];
      const external = options.enqueue === true ? enqueuer : undefined;
      try {
        if (external === undefined) {
          await query(insertRunSql, [...values, options.enqueue === true, Math.floor(run.createdAt)]);
          return;
        }
        await transaction(async (client) => {
          await client.query(insertRunSql, [...values, false, Math.floor(run.createdAt)]);
          await external.enqueueInTransaction(client, { runId: run.id, runAt: run.createdAt, concurrencyKey: run.concurrencyKey });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new Error(`run ${run.id} already exists`, { cause: error });
        throw error;
      }
    },
    async getRun(id) {
      const result = await query<{ record: RunRecord }>(`SELECT record FROM ${s}.runs WHERE id = $1`, [id]);
      return result.rows[0]?.record;
    },
    async listRuns(q: ListRunsQuery = {}) {
      const limit = Math.max(0, Math.min(q.limit ?? 50, 1000));
      const result = await query<{ record: RunRecord }>(
        `SELECT record FROM ${s}.runs
         WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR workflow = $2) AND ($3::text IS NULL OR repo = $3)
         ORDER BY created_at DESC, seq DESC LIMIT $4`,
        [q.status ?? null, q.workflow ?? null, q.repo ?? null, limit],
      );
      return result.rows.map((r) => r.record);
    },
    async updateRun(id, patch) {
      const { merge, remove } = splitPatch(patch, ["id"]);
      const result = await query(`UPDATE ${s}.runs SET record = (record || $2::jsonb) - $3::text[] WHERE id = $1`, [id, merge, remove]);
      if (result.rowCount === 0) throw new Error(`run ${id} does not exist`);
    },
    async transitionRun(id, from, to, patch = {}) {
      const { merge, remove } = splitPatch(patch, ["id", "status"]);
      const result = await query(
        `UPDATE ${s}.runs SET record = ((record || $2::jsonb) - $3::text[]) || jsonb_build_object('status', $4::text)
         WHERE id = $1 AND status = ANY($5::text[])`,
        [id, merge, remove, to, from],
      );
      return (result.rowCount ?? 0) > 0;
    },
    async findActiveRuns(concurrencyKey) {
      const result = await query<{ record: RunRecord }>(
        `SELECT record FROM ${s}.runs WHERE concurrency_key = $1 AND status <> ALL($2::text[]) ORDER BY created_at, seq`,
        [concurrencyKey, TERMINAL],
      );
      return result.rows.map((r) => r.record);
    },
    async listUnfinishedRuns() {
      const result = await query<{ record: RunRecord }>(
        `SELECT record FROM ${s}.runs WHERE (status <> ALL($1::text[]) AND status <> 'waiting') OR (status = 'cancelled' AND NOT record ? 'finishedAt') ORDER BY created_at, seq`,
        [TERMINAL],
      );
      return result.rows.map((r) => r.record);
    },
    async finishRun(id, from, event, patch = {}) {
      const { merge, remove } = splitPatch({ finishedAt: event.at, ...patch }, ["id", "status"]);
      // One statement: the status and the event commit together. A concurrent finisher waits for the
      // row lock and then re-checks the condition on the new row (it sees finishedAt and does nothing).
      const result = await query(
        `WITH r AS (
           UPDATE ${s}.runs SET record = ((record || $2::jsonb) - $3::text[]) || jsonb_build_object('status', $4::text)
           WHERE id = $1 AND status = ANY($5::text[]) AND NOT (status = ANY($7::text[]) AND record ? 'finishedAt')
           RETURNING id
         )
         INSERT INTO ${s}.events (run_id, type, event) SELECT id, 'run.finished', $6::jsonb FROM r`,
        [id, merge, remove, event.status, from, toJson(event), TERMINAL],
      );
      return (result.rowCount ?? 0) > 0;
    },

    async getSteps(runId) {
      const result = await query<{ record: StepRecord }>(`SELECT record FROM ${s}.steps WHERE run_id = $1 ORDER BY ordinal`, [runId]);
      return result.rows.map((r) => r.record);
    },
    async updateStep(runId, stepId, patch) {
      const { merge, remove } = splitPatch(patch, ["runId", "stepId"]);
      const result = await query(`UPDATE ${s}.steps SET record = (record || $3::jsonb) - $4::text[] WHERE run_id = $1 AND step_id = $2`, [
        runId,
        stepId,
        merge,
        remove,
      ]);
      if (result.rowCount === 0) throw new Error(`step ${stepId} of run ${runId} does not exist`);
    },

    async appendEvent(event) {
      try {
        await query(`INSERT INTO ${s}.events (run_id, type, event) VALUES ($1, $2, $3::jsonb)`, [event.runId, event.type, toJson(event)]);
      } catch (error) {
        if ((error as { code?: string }).code === "23503") throw new Error(`run ${event.runId} does not exist`, { cause: error });
        throw error;
      }
    },
    async listEvents(runId, options = {}) {
      const limit = options.limit === undefined ? null : Math.max(0, Math.floor(options.limit));
      const result = await query<{ event: RunEvent }>(
        `SELECT event FROM (SELECT id, event FROM ${s}.events WHERE run_id = $1 ORDER BY id DESC LIMIT $2) t ORDER BY id`,
        [runId, limit],
      );
      return result.rows.map((r) => r.event);
    },

    async recordDelivery(deliveryId, event) {
      const result = await query(`INSERT INTO ${s}.deliveries (delivery_id, event) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [deliveryId, event]);
      return (result.rowCount ?? 0) > 0;
    },

    async acceptDelivery(delivery, now) {
      const result = await query(
        `INSERT INTO ${s}.inbox (delivery_id, name, payload, received_at, available_at, trace) VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT DO NOTHING`,
        [delivery.id, delivery.name, delivery.payload, Math.floor(now), delivery.trace ? JSON.stringify(delivery.trace) : null],
      );
      return (result.rowCount ?? 0) > 0;
    },
    async claimDelivery(workerId, now, leaseMs) {
      const result = await query<{ delivery_id: string; name: string; payload: string; attempts: number; trace: string | null }>(
        `UPDATE ${s}.inbox SET worker_id = $1, available_at = $2::bigint + $3::bigint, attempts = attempts + 1
         WHERE delivery_id = (
           SELECT delivery_id FROM ${s}.inbox WHERE available_at IS NOT NULL AND available_at <= $2
           ORDER BY available_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED
         )
         RETURNING delivery_id, name, payload, attempts, trace`,
        [workerId, Math.floor(now), Math.floor(leaseMs)],
      );
      const row = result.rows[0];
      if (!row) return undefined;
      const delivery: InboxDelivery = { id: row.delivery_id, name: row.name, payload: row.payload, attempts: row.attempts };
      if (row.trace) delivery.trace = JSON.parse(row.trace) as Record<string, string>;
      return delivery;
    },
    async finishDelivery(id, workerId, retryAt) {
      const result =
        retryAt === undefined
          ? await query(`UPDATE ${s}.inbox SET payload = NULL, available_at = NULL, worker_id = NULL WHERE delivery_id = $1 AND worker_id = $2`, [id, workerId])
          : await query(`UPDATE ${s}.inbox SET available_at = $3, worker_id = NULL WHERE delivery_id = $1 AND worker_id = $2`, [id, workerId, Math.floor(retryAt)]);
      return (result.rowCount ?? 0) > 0;
    },

    async appendMessage(contextKey, message) {
      // retention: the newest MESSAGES_KEPT_PER_CONTEXT of the key stay (the delete sees the rows
      // committed before this statement; the insert is in the same statement, hence the offset − 1)
      await query(
        `WITH i AS (INSERT INTO ${s}.messages (context_key, message) VALUES ($1, $2::jsonb))
         DELETE FROM ${s}.messages WHERE context_key = $1
           AND id <= (SELECT id FROM ${s}.messages WHERE context_key = $1 ORDER BY id DESC LIMIT 1 OFFSET $3)`,
        [contextKey, toJson(message), MESSAGES_KEPT_PER_CONTEXT - 1],
      );
    },
    async listMessages(contextKey, options = {}) {
      const limit = wholeLimit(options.limit, -1, Number.MAX_SAFE_INTEGER);
      const result = await query<{ message: ConversationMessage }>(
        `SELECT message FROM (SELECT id, message FROM ${s}.messages WHERE context_key = $1 ORDER BY id DESC LIMIT $2) t ORDER BY id`,
        [contextKey, limit === -1 ? null : limit],
      );
      return result.rows.map((r) => r.message);
    },

    async getMarker(key) {
      const result = await query<{ value: string }>(`SELECT value FROM ${s}.markers WHERE key = $1`, [key]);
      return result.rows[0]?.value;
    },
    async putMarkerIfAbsent(key, value) {
      // The insert and the read are separate statements: a row committed by a concurrent winner is
      // invisible to the snapshot of the statement that lost the conflict, but visible to the next one.
      for (let attempt = 0; attempt < 5; attempt++) {
        const inserted = await query<{ value: string }>(
          `INSERT INTO ${s}.markers (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value`,
          [key, value],
        );
        if (inserted.rows[0]) return inserted.rows[0].value;
        const existing = await query<{ value: string }>(`SELECT value FROM ${s}.markers WHERE key = $1`, [key]);
        if (existing.rows[0]) return existing.rows[0].value;
      }
      throw new Error(`marker ${key} could neither be written nor read`);
    },
    async setMarker(key, value) {
      await query(
        `INSERT INTO ${s}.markers (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [key, value],
      );
    },

    ...jobs,

    async ping() {
      await query("SELECT 1");
    },
    async close() {
      if (closed) return;
      closed = true;
      if (ownsPool) await pool.end();
    },
  };
  return store;
}
