/**
 * A fleet-wide `RateLimiter`: the provider's request and token buckets live in one PostgreSQL row
 * each, so every replica draws from the same budget. A take locks the rows (`SELECT … FOR UPDATE`,
 * in key order so takers never deadlock), refills them by the database clock (the one clock all
 * replicas share), and either takes the whole cost or nothing; a taker that does not fit sleeps
 * until the deficit has refilled and tries again.
 */
import type { Pool } from "pg";
import { systemClock, type Clock } from "./clock.ts";
import type { RateLimiter } from "./token-bucket-limiter.ts";
import type { ProviderLimits } from "./provider-resilience.ts";

export interface PostgresRateLimiterOptions {
  /** The store's pool (`store.pool`). */
  pool: Pool;
  /**
   * The bucket table, schema-qualified and quoted (`"octoflow".rate_buckets`); it comes with the
   * PostgreSQL store's migrations, which own its name.
   */
  table: string;
  /** Bucket key, usually the provider name. */
  key: string;
  requestsPerMinute: number;
  /** Omit for no token limit. */
  tokensPerMinute?: number;
  /** Capacity in requests; default one second's worth (at least 1). */
  burstRequests?: number;
  /** Capacity in tokens; default ten seconds' worth. */
  burstTokens?: number;
  /** Sleeps between tries (the buckets themselves run on the database clock). */
  clock?: Clock;
}

interface BucketSpec {
  key: string;
  capacity: number;
  ratePerMs: number;
}

function spec(key: string, perMinute: number, capacity: number): BucketSpec {
  if (!(perMinute > 0)) throw new RangeError("rate limits must be positive numbers per minute");
  return { key, capacity: Math.max(1, capacity), ratePerMs: perMinute / 60_000 };
}

/**
 * Creates a limiter whose budget is shared by every process using the same database and key.
 * A cost larger than a bucket's capacity is clamped to it, so a huge prompt waits instead of
 * deadlocking.
 *
 * @example
 * const limiter = createPostgresRateLimiter({ pool: store.pool, table: '"octoflow".rate_buckets', key: "openai", requestsPerMinute: 500, tokensPerMinute: 200_000 });
 * await limiter.acquire({ requests: 1, tokens: 1_200 }, signal);
 */
export function createPostgresRateLimiter(options: PostgresRateLimiterOptions): RateLimiter {
  const { pool } = options;
  const { table } = options;
  const clock = options.clock ?? systemClock;
  const buckets: BucketSpec[] = [
    spec(`${options.key}:requests`, options.requestsPerMinute, options.burstRequests ?? Math.ceil(options.requestsPerMinute / 60)),
  ];
  if (options.tokensPerMinute !== undefined) {
    buckets.push(spec(`${options.key}:tokens`, options.tokensPerMinute, options.burstTokens ?? Math.ceil(options.tokensPerMinute / 6)));
  }
  buckets.sort((a, b) => (a.key < b.key ? -1 : 1));
  let ensured: Promise<void> | undefined;

  /** Creates the rows (full) or adopts changed limits, once per limiter. */
  const ensure = () =>
    (ensured ??= (async () => {
      for (const b of buckets) {
        await pool.query(
          `INSERT INTO ${table} (key, level, capacity, rate_per_ms, updated_ms)
           VALUES ($1, $2, $2, $3, extract(epoch FROM clock_timestamp()) * 1000)
           ON CONFLICT (key) DO UPDATE SET capacity = EXCLUDED.capacity, rate_per_ms = EXCLUDED.rate_per_ms,
             level = LEAST(${table}.level, EXCLUDED.capacity)`,
          [b.key, b.capacity, b.ratePerMs],
        );
      }
    })().catch((error: unknown) => {
      ensured = undefined;
      throw error;
    }));

  /** One locked attempt: takes `want` from every bucket or nothing; returns the wait in ms (0 = taken). */
  const tryTake = async (want: number[]): Promise<number> => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await client.query<{ key: string; level: number; updated_ms: number; now_ms: number }>(
        `SELECT key, level, updated_ms, extract(epoch FROM clock_timestamp()) * 1000 AS now_ms
         FROM ${table} WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE`,
        [buckets.map((b) => b.key)],
      );
      const rows = new Map(result.rows.map((r) => [r.key, r]));
      let wait = 0;
      const levels: number[] = [];
      let nowMs = 0;
      buckets.forEach((b, i) => {
        const row = rows.get(b.key);
        if (!row) throw new Error(`rate bucket ${b.key} is missing`);
        nowMs = Number(row.now_ms);
        const level = Math.min(b.capacity, Number(row.level) + Math.max(0, nowMs - Number(row.updated_ms)) * b.ratePerMs);
        levels.push(level);
        const missing = (want[i] ?? 0) - level;
        if (missing > 1e-9) wait = Math.max(wait, missing / b.ratePerMs);
      });
      const take = wait === 0;
      for (const [i, b] of buckets.entries()) {
        const level = (levels[i] ?? 0) - (take ? (want[i] ?? 0) : 0);
        await client.query(`UPDATE ${table} SET level = $2, updated_ms = $3 WHERE key = $1`, [b.key, level, nowMs]);
      }
      await client.query("COMMIT");
      return wait;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: unknown) => (broken = rollbackError as Error));
      throw error;
    } finally {
      client.release(broken);
    }
  };

  return {
    async acquire(cost, signal) {
      signal?.throwIfAborted();
      await ensure();
      const want = buckets.map((b) => Math.min(b.capacity, Math.max(0, b.key.endsWith(":tokens") ? cost.tokens : cost.requests)));
      for (;;) {
        signal?.throwIfAborted();
        const wait = await tryTake(want);
        if (wait === 0) return;
        // a little jitter so replicas that all waited for the same refill do not collide again
        await clock.sleep(Math.ceil(wait) + Math.floor(Math.random() * 10), signal);
      }
    },
  };
}

/**
 * Adapts the limiter to `createProviderResilience({ rateLimiterFor })`: one fleet-wide limiter per
 * provider, keyed by the provider name.
 *
 * @example
 * const resilience = createProviderResilience({ clock, rateLimiterFor: postgresRateLimiterFor({ pool: store.pool, table: '"octoflow".rate_buckets' }) });
 */
export function postgresRateLimiterFor(base: { pool: Pool; table: string; clock?: Clock }): (provider: string, limits: ProviderLimits) => RateLimiter {
  return (provider, limits) =>
    createPostgresRateLimiter({
      ...base,
      key: provider,
      requestsPerMinute: limits.requestsPerMinute,
      ...(limits.tokensPerMinute === undefined ? {} : { tokensPerMinute: limits.tokensPerMinute }),
      ...(limits.burstRequests === undefined ? {} : { burstRequests: limits.burstRequests }),
    });
}
