/**
 * Versioned, idempotent schema migrations for the PostgreSQL store. Safe when several replicas
 * start at once: the whole pass runs under a session-level advisory lock keyed by the schema, and
 * each migration is applied in its own transaction together with its row in `schema_migrations`.
 */
import type { Pool } from "pg";

export interface Migration {
  version: number;
  name: string;
  /** SQL with `{schema}` standing for the quoted schema name. */
  sql: string;
}

/** Quotes an SQL identifier (schema names come from configuration, never from users). */
export function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) {
    throw new RangeError(`invalid PostgreSQL schema name "${name}" (letters, digits and _ only, at most 63)`);
  }
  return `"${name}"`;
}

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "runs, steps, events, deliveries, messages, markers, jobs",
    sql: `
      CREATE TABLE {schema}.runs (
        seq bigserial UNIQUE,
        id text PRIMARY KEY,
        record jsonb NOT NULL,
        status text GENERATED ALWAYS AS (record->>'status') STORED,
        concurrency_key text GENERATED ALWAYS AS (record->>'concurrencyKey') STORED,
        workflow text GENERATED ALWAYS AS (record->>'workflow') STORED,
        repo text GENERATED ALWAYS AS ((record->'trigger'->'repo'->>'owner') || '/' || (record->'trigger'->'repo'->>'name')) STORED,
        created_at double precision GENERATED ALWAYS AS ((record->>'createdAt')::double precision) STORED
      );
      CREATE INDEX runs_created_idx ON {schema}.runs (created_at DESC, seq DESC);
      CREATE INDEX runs_active_idx ON {schema}.runs (concurrency_key, created_at, seq)
        WHERE status NOT IN ('succeeded', 'failed', 'cancelled');
      CREATE INDEX runs_unfinished_idx ON {schema}.runs (created_at, seq)
        WHERE status NOT IN ('succeeded', 'failed', 'cancelled');

      CREATE TABLE {schema}.steps (
        run_id text NOT NULL REFERENCES {schema}.runs (id) ON DELETE CASCADE,
        step_id text NOT NULL,
        ordinal int NOT NULL,
        record jsonb NOT NULL,
        PRIMARY KEY (run_id, step_id)
      );

      CREATE TABLE {schema}.events (
        id bigserial PRIMARY KEY,
        run_id text NOT NULL REFERENCES {schema}.runs (id) ON DELETE CASCADE,
        type text NOT NULL,
        event jsonb NOT NULL
      );
      CREATE INDEX events_run_idx ON {schema}.events (run_id, id);

      CREATE TABLE {schema}.deliveries (
        delivery_id text PRIMARY KEY,
        event text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE {schema}.messages (
        id bigserial PRIMARY KEY,
        context_key text NOT NULL,
        message jsonb NOT NULL
      );
      CREATE INDEX messages_context_idx ON {schema}.messages (context_key, id);

      CREATE TABLE {schema}.markers (
        key text PRIMARY KEY,
        value text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE {schema}.jobs (
        run_id text PRIMARY KEY REFERENCES {schema}.runs (id) ON DELETE CASCADE,
        seq bigserial,
        run_at bigint NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        worker_id text,
        lease_until bigint,
        requeue boolean NOT NULL DEFAULT false
      );
      CREATE INDEX jobs_runnable_idx ON {schema}.jobs (run_at, seq);
    `,
  },
  {
    version: 2,
    name: "fleet-wide rate limiter buckets",
    sql: `
      CREATE TABLE {schema}.rate_buckets (
        key text PRIMARY KEY,
        level double precision NOT NULL,
        capacity double precision NOT NULL,
        rate_per_ms double precision NOT NULL,
        updated_ms double precision NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: "cancelled runs not yet finished are found by resume",
    sql: `
      CREATE INDEX runs_cancelled_unfinished_idx ON {schema}.runs (created_at, seq)
        WHERE status = 'cancelled' AND NOT record ? 'finishedAt';
    `,
  },
  {
    version: 4,
    name: "indexed job claims: one key, run_at while waiting, lease_until while leased",
    sql: `
      ALTER TABLE {schema}.jobs ADD COLUMN available_at bigint GENERATED ALWAYS AS (COALESCE(lease_until, run_at)) STORED;
      CREATE INDEX jobs_available_idx ON {schema}.jobs (available_at, seq);
      DROP INDEX {schema}.jobs_runnable_idx;
    `,
  },
  {
    version: 5,
    name: "webhook inbox",
    sql: `
      CREATE TABLE {schema}.inbox (
        seq bigserial,
        delivery_id text PRIMARY KEY,
        name text NOT NULL,
        payload text,
        received_at bigint NOT NULL,
        available_at bigint,
        attempts int NOT NULL DEFAULT 0,
        worker_id text,
        trace text
      );
      CREATE INDEX inbox_available_idx ON {schema}.inbox (available_at, seq) WHERE available_at IS NOT NULL;
    `,
  },
];

/**
 * Applies every migration not yet recorded in `<schema>.schema_migrations`. Concurrent callers
 * (replicas starting together) serialise on `pg_advisory_lock`, so each migration runs once.
 * Returns the versions this call applied.
 *
 * @example
 * const applied = await migratePostgres(pool, "octoflow");
 */
export async function migratePostgres(pool: Pool, schema: string, migrations: readonly Migration[] = POSTGRES_MIGRATIONS): Promise<number[]> {
  const q = quoteIdent(schema);
  const client = await pool.connect();
  const applied: number[] = [];
  let broken: Error | undefined;
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [`octoflow:migrate:${schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${q}.schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const done = await client.query<{ version: number }>(`SELECT version FROM ${q}.schema_migrations`);
      const have = new Set(done.rows.map((r) => r.version));
      for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
        if (have.has(migration.version)) continue;
        await client.query("BEGIN");
        try {
          await client.query(migration.sql.replaceAll("{schema}", q));
          await client.query(`INSERT INTO ${q}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK").catch((rollbackError: unknown) => (broken = rollbackError as Error));
          // the reason goes into the message: start-up prints one line, not the cause chain
          const reason = error instanceof Error ? error.message : String(error);
          throw new Error(`PostgreSQL migration ${migration.version} (${migration.name}) failed: ${reason}`, { cause: error });
        }
        applied.push(migration.version);
      }
    } finally {
      // a failed unlock must not hide the migration's own error; dropping the connection below
      // releases the session lock on the server
      await client
        .query("SELECT pg_advisory_unlock(hashtext($1))", [`octoflow:migrate:${schema}`])
        .catch((unlockError: unknown) => (broken = unlockError as Error));
    }
  } finally {
    // a connection whose rollback or unlock failed is destroyed, not returned to the pool
    client.release(broken);
  }
  return applied;
}
