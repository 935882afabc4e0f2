/**
 * The backend factory: `DATABASE_URL` is parsed here, once, into a `BackendLocation`, and
 * `openBackend` turns that into the three things that depend on it (D2, D3):
 *
 * | location | store | queue | rate limits |
 * |---|---|---|---|
 * | unset, `sqlite:`, `file:` | SQLite file (`./data/octoflow.db` by default) | embedded, over the store's job table | in-process buckets |
 * | `postgres://`, `postgresql://` | PostgreSQL | pg-boss on the same database | fleet-wide (one bucket row per provider) |
 * | `{ kind: "memory" }` (tests, replay) | in memory | embedded | in-process buckets |
 *
 * Nothing else inspects a store to guess which database it runs on.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import type { AgentRunnerDeps } from "../agents/agent-runner.ts";
import { ConfigError } from "../errors/config-error.ts";
import type { Metrics } from "../observability/metrics.ts";
import { createEmbeddedQueue } from "../queue/embedded-queue.ts";
import { createPgBossQueue } from "../queue/pg-boss-queue.ts";
import { postgresRateLimiterFor } from "../resilience/postgres-rate-limiter.ts";
import { createMemoryRunStore } from "../store/memory-run-store.ts";
import { quoteIdent } from "../store/postgres-migrations.ts";
import { createPostgresRunStore } from "../store/postgres-run-store.ts";
import { createSqliteRunStore } from "../store/sqlite-run-store.ts";
import type { Clock, Queue, RunStore } from "../workflows/ports.ts";

/** Default SQLite file, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = "./data/octoflow.db";

/** Where runs are stored, parsed from `DATABASE_URL`. */
export type BackendLocation =
  | { kind: "sqlite"; /** Absolute path, or `:memory:`. */ path: string }
  | { kind: "postgres"; connectionString: string }
  | { kind: "memory" };

/** A limiter per provider for `createAgentRunner({ rateLimiterFor })`. */
export type RateLimiterFor = NonNullable<AgentRunnerDeps["rateLimiterFor"]>;

export interface Backend {
  location: BackendLocation;
  store: RunStore;
  /** The run queue; undefined when opened with `queue: false` (the CLI executes runs itself). */
  queue: Queue | undefined;
  /** Fleet-wide provider limits on PostgreSQL; undefined means in-process buckets. */
  rateLimiterFor: RateLimiterFor | undefined;
  /** Stops the queue's workers, then closes the store. */
  close(): Promise<void>;
}

export interface OpenBackendOptions {
  /** Runs executed at once by this process (`OCTOFLOW_CONCURRENCY`); the queue's worker slots. */
  runsPerProcess: number;
  /** The embedded queue's lease (`OCTOFLOW_QUEUE_LEASE_MS`, default 30 s); pg-boss keeps its own. */
  leaseMs?: number;
  /** Whether to create the queue (default true). Without one, nothing here claims jobs. */
  queue?: boolean;
  log?: Logger;
  metrics?: Metrics;
  clock?: Clock;
}

/**
 * Parses `DATABASE_URL`. Relative SQLite paths (and the default) are resolved against `cwd`.
 * Throws a `ConfigError` naming the variable for a scheme no adapter handles.
 *
 * @example
 * parseDatabaseUrl(undefined, "/srv");              // { kind: "sqlite", path: "/srv/data/octoflow.db" }
 * parseDatabaseUrl("sqlite::memory:");              // { kind: "sqlite", path: ":memory:" }
 * parseDatabaseUrl("file:///var/lib/octoflow.db");  // { kind: "sqlite", path: "/var/lib/octoflow.db" }
 * parseDatabaseUrl("postgres://u@db:5432/octoflow"); // { kind: "postgres", connectionString: "postgres://u@db:5432/octoflow" }
 */
export function parseDatabaseUrl(url: string | undefined, cwd: string = process.cwd()): BackendLocation {
  const value = url?.trim() ?? "";
  const sqlite = (path: string): BackendLocation => ({ kind: "sqlite", path: path === ":memory:" || isAbsolute(path) ? path : resolve(cwd, path) });
  if (value === "") return sqlite(DEFAULT_SQLITE_PATH);
  if (/^postgres(ql)?:\/\//.test(value)) return { kind: "postgres", connectionString: value };
  if (value === "sqlite::memory:" || value === "sqlite://:memory:") return sqlite(":memory:");
  if (value.startsWith("file://")) return sqlite(fileURLToPath(value));
  for (const prefix of ["sqlite://", "sqlite:", "file:"]) if (value.startsWith(prefix)) return sqlite(value.slice(prefix.length));
  throw new ConfigError("DATABASE_URL: no adapter for this URL's scheme (use postgres://, postgresql://, sqlite:, file:, or leave it unset for ./data/octoflow.db)");
}

/**
 * Opens the store, the queue and the provider limits for a location.
 *
 * @example
 * const backend = await openBackend(parseDatabaseUrl(env.DATABASE_URL), { runsPerProcess: env.OCTOFLOW_CONCURRENCY, log, metrics });
 * const core = composeCore({ env, backend, clients, clock, log, metrics });
 * await backend.queue?.start(core.engine.execute);
 */
export async function openBackend(location: BackendLocation, options: OpenBackendOptions): Promise<Backend> {
  const withQueue = options.queue ?? true;
  if (location.kind === "postgres") {
    const store = await createPostgresRunStore({ connectionString: location.connectionString });
    let queue: Queue | undefined;
    try {
      if (withQueue) {
        const log = options.log?.child({ component: "pg-boss-queue" });
        queue = await createPgBossQueue({
          store,
          connectionString: location.connectionString,
          concurrency: options.runsPerProcess,
          ...(options.metrics ? { metrics: options.metrics } : {}),
          onError: (error) => log?.warn({ err: error }, "pg-boss reported a problem"),
        });
      }
    } catch (error) {
      await store.close().catch(() => undefined);
      throw error;
    }
    // On PostgreSQL the per-provider rate limits hold for the whole fleet, not per replica.
    const rateLimiterFor = postgresRateLimiterFor({ pool: store.pool, table: `${quoteIdent(store.schema)}.rate_buckets`, ...(options.clock ? { clock: options.clock } : {}) });
    return assemble(location, store, queue, rateLimiterFor);
  }
  const store = location.kind === "memory" ? createMemoryRunStore() : createSqliteRunStore({ path: location.path });
  return backendOver(store, { ...options, queue: withQueue }, location);
}

/**
 * A backend over a store that already exists (tests inject an in-memory store): the embedded
 * queue over it, in-process rate limits. `close()` closes that store too.
 *
 * @example
 * const backend = backendOver(createMemoryRunStore(), { runsPerProcess: 2 });
 */
export function backendOver(store: RunStore, options: OpenBackendOptions, location: BackendLocation = { kind: "memory" }): Backend {
  const queue =
    (options.queue ?? true)
      ? createEmbeddedQueue({
          store,
          concurrency: options.runsPerProcess,
          ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
          ...(options.log ? { log: options.log } : {}),
          ...(options.metrics ? { metrics: options.metrics } : {}),
          ...(options.clock ? { clock: options.clock } : {}),
        })
      : undefined;
  return assemble(location, store, queue, undefined);
}

function assemble(location: BackendLocation, store: RunStore, queue: Queue | undefined, rateLimiterFor: RateLimiterFor | undefined): Backend {
  let closed: Promise<void> | undefined;
  return {
    location,
    store,
    queue,
    rateLimiterFor,
    close: () =>
      (closed ??= (async () => {
        try {
          await queue?.stop();
        } finally {
          await store.close();
        }
      })()),
  };
}
