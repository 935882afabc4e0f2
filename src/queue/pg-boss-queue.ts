/**
 * The scale-out queue (D3): pg-boss on the same PostgreSQL database as the store, with workers on
 * every replica.
 *
 * - A new run's job is sent through the store's transaction (`send(…, { db })`), so the run row and
 *   its job commit together.
 * - The queue's `singleton` policy keyed by the run's concurrency key allows one active job per
 *   repository + issue/PR + workflow across the whole fleet (a unique index in pg-boss), while any
 *   number wait.
 * - Workers heartbeat their jobs; a replica that dies stops heartbeating and pg-boss's supervisor
 *   hands its jobs to another replica, where the engine resumes the run from its persisted steps.
 * - A handler that throws is retried with exponential backoff.
 * - Lease loss: pg-boss fences its heartbeat and `complete` to the attempt this worker fetched. When
 *   a heartbeat finds the job no longer held (the replica was silent past `heartbeatSeconds` and the
 *   supervisor failed the job, which a retry then gives to another replica), pg-boss aborts
 *   `job.signal`; the engine treats that like a shutdown — no further step or run writes, the new
 *   owner re-runs the interrupted step — and the stale worker's completion changes nothing. This is
 *   the same guarantee as the embedded queue's `renewJob` / `completeJob(runId, workerId)`; in both,
 *   a stale worker notices within one heartbeat, so a step result it was already writing in that
 *   window can still land (side effects are idempotent for that case).
 */
import { PgBoss } from "pg-boss";
import type { Db, Job } from "pg-boss";
import type { PoolClient } from "pg";
import type { JobHandler, Queue } from "../workflows/ports.ts";
import type { RunId } from "../workflows/types.ts";
import { asRunId, TERMINAL_RUN_STATUSES } from "../workflows/types.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { PostgresRunStore, TransactionalEnqueuer } from "../store/postgres-run-store.ts";
import { quoteIdent } from "../store/postgres-migrations.ts";

export interface PgBossQueueOptions {
  store: PostgresRunStore;
  /** The database pg-boss connects to (the store's). */
  connectionString: string;
  /** pg-boss's schema; default `<store schema>_boss`. */
  schema?: string;
  /** Queue name; default `octoflow-runs`. */
  queueName?: string;
  /** Runs executed at once by this replica; default 4. */
  concurrency?: number;
  /** A worker heartbeats every half of this; a job silent this long goes to another replica. Default 30 (min 10). */
  heartbeatSeconds?: number;
  /** Longest a run may hold its job; default 4 hours (max 24). */
  expireInSeconds?: number;
  /**
   * Retries after a handler error (the engine throws only when it cannot persist, e.g. the database
   * is unreachable); default 10, with exponential backoff from `retryDelaySeconds` (2) up to
   * `retryDelayMaxSeconds` (300).
   */
  retryLimit?: number;
  retryDelaySeconds?: number;
  retryDelayMaxSeconds?: number;
  /** How often pg-boss's supervisor looks for expired / silent jobs; default 30. */
  superviseIntervalSeconds?: number;
  /**
   * How long an idle worker waits before looking again; default 0.5. New jobs wake workers at once
   * (LISTEN/NOTIFY); the poll picks up jobs released by another replica (a finished run of the same
   * concurrency key, a retry coming due, a job whose replica died).
   */
  pollingIntervalSeconds?: number;
  /** Size of pg-boss's own pool; default 6. */
  max?: number;
  /** How long `stop()` waits for running jobs before aborting them (they resume on another replica); default 10 s. */
  stopTimeoutMs?: number;
  /** Queue depth gauges, refreshed every 10 s while workers run. */
  metrics?: Pick<Metrics, "queueDepth" | "queueOldestAgeSeconds">;
  /** Receives pg-boss errors and warnings (they never throw). */
  onError?: (error: Error) => void;
}

export interface PgBossQueue extends Queue, TransactionalEnqueuer {
  /** The pg-boss instance, for operators' tooling (`getQueue`, `findJobs`). */
  readonly boss: PgBoss;
  readonly queueName: string;
}

interface RunJobData {
  runId: string;
}

/** A pg-boss `db` executing on the caller's transaction client. */
export function executorFor(client: PoolClient): Db {
  return {
    executeSql: async (text: string, values?: unknown[]) => {
      const result = await client.query(text, values);
      return { rows: result.rows };
    },
  };
}

/**
 * Starts pg-boss (installing or migrating its schema; safe when replicas start together), creates
 * the queue, and routes the store's transactional enqueue to it. Workers start with `start()`.
 *
 * @example
 * const store = await createPostgresRunStore({ connectionString: env.DATABASE_URL });
 * const queue = await createPgBossQueue({ store, connectionString: env.DATABASE_URL, concurrency: env.OCTOFLOW_CONCURRENCY });
 * const engine = createEngine({ store, queue, ... });
 * await queue.start((runId, signal) => engine.execute(runId, signal));
 */
export async function createPgBossQueue(options: PgBossQueueOptions): Promise<PgBossQueue> {
  const { store } = options;
  const queueName = options.queueName ?? "octoflow-runs";
  const bossSchema = options.schema ?? `${store.schema}_boss`;
  const runs = `${quoteIdent(store.schema)}.runs`;
  const heartbeatSeconds = Math.max(10, Math.round(options.heartbeatSeconds ?? 30));
  const superviseIntervalSeconds = Math.max(1, Math.round(options.superviseIntervalSeconds ?? 30));
  const onError = options.onError ?? (() => undefined);
  const pollingIntervalSeconds = Math.max(0.5, options.pollingIntervalSeconds ?? 0.5);

  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: quoteIdent(bossSchema).slice(1, -1),
    max: options.max ?? 6,
    application_name: "octoflow-queue",
    useListenNotify: true,
    superviseIntervalSeconds,
    monitorIntervalSeconds: superviseIntervalSeconds,
    schedule: false,
    instanceName: "octoflow",
  });
  boss.on("error", onError);
  boss.on("warning", (warning) => onError(new Error(`pg-boss: ${warning.message}`)));
  // several replicas installing pg-boss at once can see each other's half-made schema: try again
  await boss.start({ attempts: 5 });

  const queueOptions = {
    expireInSeconds: Math.min(86_400, Math.max(1, Math.round(options.expireInSeconds ?? 4 * 3600))),
    heartbeatSeconds,
    retryLimit: options.retryLimit ?? 10,
    retryDelay: options.retryDelaySeconds ?? 2,
    retryBackoff: true,
    retryDelayMax: options.retryDelayMaxSeconds ?? 300,
    deleteAfterSeconds: 86_400,
    notify: true,
  };
  let jobTable: string;
  try {
    await boss.createQueue(queueName, { policy: "singleton", ...queueOptions });
    await boss.updateQueue(queueName, queueOptions);
    const info = await boss.getQueue(queueName);
    if (!info) throw new Error(`pg-boss queue ${queueName} was not created`);
    if (info.policy !== "singleton") throw new Error(`pg-boss queue ${queueName} has policy ${info.policy}; Octoflow needs "singleton"`);
    jobTable = `${quoteIdent(bossSchema)}.${quoteIdent(info.table)}`;
  } catch (error) {
    await boss.stop({ graceful: false, close: true }).catch(() => undefined);
    throw error;
  }

  let workId: string | undefined;
  let stopped = false;
  let stopping: AbortController | undefined;
  let statsTimer: NodeJS.Timeout | undefined;

  /**
   * Sends the job of an existing run (retry, resume, promotion, hand-over) unless one is pending:
   * a waiting job always counts; an active job counts while the run is `running` (a replica is
   * executing it, or pg-boss will retry it when that replica's heartbeat stops), so replicas that
   * start up and resume unfinished runs do not pile up jobs. A hand-over (`force`) comes from the
   * active job itself, which is about to end.
   */
  const enqueueExisting = async (client: PoolClient, runId: RunId, runAt: number, force: boolean): Promise<void> => {
    const found = await client.query<{ concurrency_key: string; status: string }>(`SELECT concurrency_key, status FROM ${runs} WHERE id = $1`, [runId]);
    const run = found.rows[0];
    if (!run) throw new Error(`run ${runId} does not exist`);
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`octoflow:enqueue:${runId}`]);
    const pending = await client.query<{ state: string }>(
      `SELECT state::text AS state FROM ${jobTable} WHERE name = $1 AND singleton_key = $2 AND data->>'runId' = $3 AND state <= 'active'`,
      [queueName, run.concurrency_key, runId],
    );
    const states = pending.rows.map((r) => r.state);
    if (states.some((state) => state !== "active")) {
      // a waiting job (a parked run's poll) is pulled forward to the earlier time
      await client.query(
        `UPDATE ${jobTable} SET start_after = LEAST(start_after, to_timestamp($4::float8 / 1000)) WHERE name = $1 AND singleton_key = $2 AND data->>'runId' = $3 AND state IN ('created', 'retry')`,
        [queueName, run.concurrency_key, runId, runAt],
      );
      return;
    }
    if (!force && states.includes("active") && run.status === "running") return;
    await send(client, runId, run.concurrency_key, runAt);
  };

  const send = async (client: PoolClient, runId: RunId, key: string, runAt: number): Promise<void> => {
    const startAfter = runAt > Date.now() ? { startAfter: new Date(runAt) } : {};
    await boss.send(queueName, { runId } satisfies RunJobData, { singletonKey: key, ...startAfter, db: executorFor(client) });
  };

  const queue: PgBossQueue = {
    boss,
    queueName,

    async enqueueInTransaction(client, job) {
      if (job.concurrencyKey === undefined) await enqueueExisting(client, job.runId, job.runAt, false);
      else await send(client, job.runId, job.concurrencyKey, job.runAt); // a new run: no job yet
    },

    async enqueue(runId, options) {
      await store.transaction((client) => enqueueExisting(client, runId, options?.runAt ?? Date.now(), false));
    },

    async start(handler: JobHandler) {
      if (workId !== undefined) return;
      stopping = new AbortController();
      const stopSignal = stopping.signal;
      workId = await boss.work<RunJobData>(
        queueName,
        {
          localConcurrency: Math.max(1, options.concurrency ?? 4),
          batchSize: 1,
          pollingIntervalSeconds: pollingIntervalSeconds,
          notifyPollingIntervalSeconds: pollingIntervalSeconds,
        },
        async (jobs: Job<RunJobData>[]) => {
          for (const job of jobs) {
            const runId = asRunId(job.data.runId);
            // job.signal: pg-boss lost this claim (the job already went back to the queue);
            // stopSignal: this replica is shutting down and hands the run over below.
            await handler(runId, AbortSignal.any([job.signal, stopSignal]));
            if (stopSignal.aborted && !job.signal.aborted) {
              const run = await store.getRun(runId);
              if (run && !TERMINAL_RUN_STATUSES.includes(run.status)) {
                await store.transaction((client) => enqueueExisting(client, runId, Date.now(), true));
              }
            }
          }
          // A busy worker looks for its next job as soon as this one ends instead of sleeping out
          // the poll interval, so a backlog drains at full speed (idle workers keep polling).
          for (const wip of boss.getWipData()) if (wip.name === queueName && wip.count > 0) boss.notifyWorker(wip.id);
        },
      );
      if (options.metrics) {
        const metrics = options.metrics;
        statsTimer = setInterval(() => {
          queue.stats().then(
            (stats) => {
              metrics.queueDepth.set(stats.depth);
              metrics.queueOldestAgeSeconds.set(stats.oldestAgeMs / 1000);
            },
            (error: unknown) => onError(error as Error),
          );
        }, 10_000);
        statsTimer.unref();
      }
    },

    async stop() {
      if (statsTimer) clearInterval(statsTimer);
      statsTimer = undefined;
      if (workId !== undefined) {
        workId = undefined;
        // stop fetching and wait for running jobs; past the timeout, abort them (they stay resumable
        // and are handed to another replica)
        const timer = setTimeout(() => stopping?.abort(new Error("the worker is stopping")), options.stopTimeoutMs ?? 10_000);
        await boss.offWork(queueName, { wait: true }).catch(onError);
        clearTimeout(timer);
      }
      // The store keeps sending through pg-boss's SQL on its own connections, so a run created while
      // this replica shuts down still gets a job that another replica will execute.
      if (!stopped) {
        stopped = true;
        await boss.stop({ graceful: true, close: true, timeout: 5_000 });
      }
    },

    running() {
      return workId !== undefined;
    },

    async stats() {
      const result = await boss.getDb().executeSql(
        `SELECT count(*)::int AS depth, COALESCE(extract(epoch FROM (now() - min(created_on))) * 1000, 0)::float8 AS oldest
         FROM ${jobTable} WHERE name = $1 AND state < 'active' AND start_after <= now()`,
        [queueName],
      );
      const row = result.rows[0] as { depth: number; oldest: number } | undefined;
      return { depth: row?.depth ?? 0, oldestAgeMs: Math.max(0, Math.round(row?.oldest ?? 0)) };
    },
  };
  store.setEnqueuer(queue);
  return queue;
}
