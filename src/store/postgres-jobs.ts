/**
 * The embedded queue's jobs in the PostgreSQL store (when pg-boss is not the queue): one row per run,
 * leased with a worker id and a lease end; every claim, renewal and completion is one atomic statement.
 * When a transactional enqueuer (pg-boss) is set, `enqueueJob` sends through it instead.
 */
import type { PoolClient, QueryResult, QueryResultRow } from "pg";
import type { QueueJob, RunStore } from "../workflows/ports.ts";
import type { RunId } from "../workflows/types.ts";
import { asRunId } from "../workflows/types.ts";

/**
 * Sends a run's job inside the caller's transaction (the pg-boss queue implements it), so the run
 * row and its job commit or roll back together.
 */
export interface TransactionalEnqueuer {
  enqueueInTransaction(client: PoolClient, job: { runId: RunId; runAt: number; concurrencyKey?: string }): Promise<void>;
}

export interface PostgresJobsDeps {
  /** The quoted schema name. */
  s: string;
  query<R extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
  /** The transactional enqueuer set on the store, if any. */
  enqueuer(): TransactionalEnqueuer | undefined;
}

export function createPostgresJobs(deps: PostgresJobsDeps): Pick<RunStore, "enqueueJob" | "claimJob" | "renewJob" | "completeJob" | "queueStats"> {
  const { s, query, transaction } = deps;
  return {
    async enqueueJob(runId, runAt) {
      const external = deps.enqueuer();
      if (external !== undefined) {
        await transaction((client) => external.enqueueInTransaction(client, { runId, runAt }));
        return;
      }
      try {
        await query(
          `INSERT INTO ${s}.jobs (run_id, run_at) VALUES ($1, $2) ON CONFLICT (run_id) DO UPDATE SET
             requeue = ${s}.jobs.requeue OR ${s}.jobs.worker_id IS NOT NULL,
             run_at = CASE WHEN ${s}.jobs.worker_id IS NULL OR ${s}.jobs.requeue THEN LEAST(${s}.jobs.run_at, EXCLUDED.run_at) ELSE EXCLUDED.run_at END`,
          [runId, Math.floor(runAt)],
        );
      } catch (error) {
        if ((error as { code?: string }).code === "23503") throw new Error(`run ${runId} does not exist`, { cause: error });
        throw error;
      }
    },
    async claimJob(workerId, now, leaseMs) {
      const result = await query<{ run_id: string; attempts: number; run_at: string }>(
        `UPDATE ${s}.jobs SET worker_id = $1, lease_until = $2::bigint + $3::bigint, attempts = attempts + 1, requeue = false
         WHERE run_id = (
           SELECT run_id FROM ${s}.jobs WHERE available_at <= $2
           ORDER BY available_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED
         )
         RETURNING run_id, attempts, run_at`,
        [workerId, Math.floor(now), Math.floor(leaseMs)],
      );
      const row = result.rows[0];
      if (!row) return undefined;
      const job: QueueJob = { runId: asRunId(row.run_id), attempts: row.attempts, runAt: Number(row.run_at) };
      return job;
    },
    async renewJob(runId, workerId, now, leaseMs) {
      const result = await query(`UPDATE ${s}.jobs SET lease_until = $3::bigint + $4::bigint WHERE run_id = $1 AND worker_id = $2`, [
        runId,
        workerId,
        Math.floor(now),
        Math.floor(leaseMs),
      ]);
      return (result.rowCount ?? 0) > 0;
    },
    async completeJob(runId, workerId) {
      // only the current lease holder: a stale worker's complete touches nothing
      const result = await query<{ n: string }>(
        `WITH d AS (DELETE FROM ${s}.jobs WHERE run_id = $1 AND worker_id = $2 AND NOT requeue RETURNING 1),
              u AS (UPDATE ${s}.jobs SET requeue = false, worker_id = NULL, lease_until = NULL WHERE run_id = $1 AND worker_id = $2 AND requeue RETURNING 1)
         SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM u) AS n`,
        [runId, workerId],
      );
      return Number(result.rows[0]?.n ?? 0) > 0;
    },
    async queueStats(now) {
      const result = await query<{ depth: string; oldest: string | null }>(
        `SELECT count(*) AS depth, min(run_at) AS oldest FROM ${s}.jobs WHERE available_at <= $1`,
        [Math.floor(now)],
      );
      const row = result.rows[0];
      const depth = Number(row?.depth ?? 0);
      const oldest = row?.oldest == null ? undefined : Number(row.oldest);
      return { depth, oldestAgeMs: depth === 0 || oldest === undefined ? 0 : Math.max(0, now - oldest) };
    },
  };
}
