/**
 * Picks the queue for the store (D3): the embedded queue over the store's job table for SQLite,
 * pg-boss on the same database for PostgreSQL (so several replicas share the work).
 */
import type { Logger } from "pino";
import type { Metrics } from "../observability/metrics.ts";
import type { PostgresRunStore } from "../store/postgres-run-store.ts";
import type { Clock, Queue, RunStore } from "../workflows/ports.ts";
import { createEmbeddedQueue } from "./embedded-queue.ts";
import { createPgBossQueue } from "./pg-boss-queue.ts";

export interface QueueEnv {
  DATABASE_URL?: string | undefined;
  /** Runs executed at once by this process. */
  OCTOFLOW_CONCURRENCY?: number | undefined;
}

export interface CreateQueueOptions {
  log?: Logger;
  metrics?: Metrics;
  clock?: Clock;
}

const isPostgresUrl = (url: string | undefined): url is string => url !== undefined && /^postgres(ql)?:\/\//.test(url);

function isPostgresStore(store: RunStore): store is PostgresRunStore {
  return typeof (store as Partial<PostgresRunStore>).setEnqueuer === "function";
}

/**
 * Creates the queue that fits `store`: pg-boss when `DATABASE_URL` is a PostgreSQL URL (the store
 * must then be the PostgreSQL store, from `openStore(env)`), the embedded queue otherwise.
 * With pg-boss, jobs are durable in the database and a dead replica's jobs move to a live one;
 * `engine.resumeUnfinished()` at start-up is then a safety net that adds no job for a run already
 * waiting or being executed.
 *
 * @example
 * const store = await openStore(env);
 * const queue = await createQueueFor(env, store, { log, metrics });
 * const engine = createEngine({ store, queue, agents, progress, log, metrics });
 * await queue.start(engine.execute);
 */
export async function createQueueFor(env: QueueEnv, store: RunStore, options: CreateQueueOptions = {}): Promise<Queue> {
  const concurrency = env.OCTOFLOW_CONCURRENCY ?? 4;
  if (isPostgresUrl(env.DATABASE_URL)) {
    if (!isPostgresStore(store)) throw new Error("DATABASE_URL is a PostgreSQL URL but the store is not the PostgreSQL store");
    const log = options.log?.child({ component: "pg-boss-queue" });
    return createPgBossQueue({
      store,
      connectionString: env.DATABASE_URL,
      concurrency,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      onError: (error) => log?.warn({ err: error }, "pg-boss reported a problem"),
    });
  }
  return createEmbeddedQueue({
    store,
    concurrency,
    ...(options.log ? { log: options.log } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
