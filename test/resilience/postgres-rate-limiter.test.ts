import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { migratePostgres } from "../../src/store/postgres-migrations.ts";
import { createPostgresRateLimiter, postgresRateLimiterFor } from "../../src/resilience/postgres-rate-limiter.ts";
import { createTokenBucketLimiter } from "../../src/resilience/token-bucket-limiter.ts";
import { systemClock } from "../../src/workflows/ports.ts";
import { dropSchemas, SKIP_REASON, TEST_DATABASE_URL, uniqueSchema } from "../helpers/pg-harness.ts";

const url = TEST_DATABASE_URL;
const suite = url === undefined ? describe.skip : describe;

async function until(done: () => boolean | Promise<boolean>, limit = 200): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("condition not reached");
}

/** Starts `n` acquisitions and counts how many got through; all are cancelled by `abort`. */
function contend(limiter: { acquire(cost: { requests: number; tokens: number }, signal?: AbortSignal): Promise<void> }, n: number, cost: { requests: number; tokens: number }, signal: AbortSignal) {
  const state = { granted: 0, aborted: 0 };
  const all = Promise.all(
    Array.from({ length: n }, () =>
      limiter.acquire(cost, signal).then(
        () => void (state.granted += 1),
        () => void (state.aborted += 1),
      ),
    ),
  );
  return { state, all };
}

suite(`fleet-wide PostgreSQL rate limiter${url === undefined ? ` (${SKIP_REASON})` : ""}`, () => {
  const schema = uniqueSchema("limiter");
  // three replicas: three pools, three limiter instances on one budget
  const pools: pg.Pool[] = [];
  beforeAll(async () => {
    if (url === undefined) return;
    for (let i = 0; i < 3; i++) pools.push(new pg.Pool({ connectionString: url, max: 4 }));
    await migratePostgres(pools[0]!, schema);
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    if (url !== undefined) await dropSchemas(url, schema);
  });

  it("three replicas together get one budget, where per-process buckets would each get a full one", async () => {
    // one request per hour, a burst of 5: nothing refills while the test runs
    const limits = { key: "anthropic", requestsPerMinute: 1 / 60, burstRequests: 5 };
    const controller = new AbortController();
    const replicas = pools.map((pool) => contend(createPostgresRateLimiter({ pool, table: `"${schema}".rate_buckets`, ...limits }), 4, { requests: 1, tokens: 0 }, controller.signal));
    await until(() => replicas.reduce((n, r) => n + r.state.granted, 0) >= 5);
    const level = await pools[0]!.query<{ level: number }>(`SELECT level FROM "${schema}".rate_buckets WHERE key = 'anthropic:requests'`);
    expect(Number(level.rows[0]?.level)).toBeLessThan(1);
    controller.abort(new Error("test over"));
    await Promise.all(replicas.map((r) => r.all));
    expect(replicas.reduce((n, r) => n + r.state.granted, 0)).toBe(5);
    expect(replicas.reduce((n, r) => n + r.state.aborted, 0)).toBe(7);

    // the in-process limiter, for contrast, grants each replica its own burst: 12 of 12
    const local = new AbortController();
    const separate = pools.map(() =>
      contend(createTokenBucketLimiter({ requestsPerMinute: 1 / 60, burstRequests: 5, clock: systemClock }), 4, { requests: 1, tokens: 0 }, local.signal),
    );
    await Promise.all(separate.map((r) => r.all));
    expect(separate.reduce((n, r) => n + r.state.granted, 0)).toBe(12);
  });

  it("takes requests and tokens together or not at all, clamps a cost above capacity, and refills by the database clock", async () => {
    const make = (pool: pg.Pool) =>
      postgresRateLimiterFor({ pool, table: `"${schema}".rate_buckets` })("openai", { requestsPerMinute: 60_000, tokensPerMinute: 6, burstRequests: 100 });
    const [a, b] = [make(pools[0]!), make(pools[1]!)];
    await a.acquire({ requests: 1, tokens: 1 }); // tokens: capacity 1 (ten seconds of 6/min)
    const controller = new AbortController();
    const waiting = contend(b, 1, { requests: 1, tokens: 50 }, controller.signal); // clamped to 1, waits ~10 s
    await until(async () => {
      const r = await pools[0]!.query<{ updated_ms: number }>(`SELECT updated_ms FROM "${schema}".rate_buckets WHERE key = 'openai:tokens'`);
      return r.rows.length === 1;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(waiting.state.granted).toBe(0);
    const requests = await pools[0]!.query<{ level: number }>(`SELECT level FROM "${schema}".rate_buckets WHERE key = 'openai:requests'`);
    // the waiting taker took no request while its tokens did not fit (99 left of 100, give or take the refill)
    expect(Number(requests.rows[0]?.level)).toBeGreaterThanOrEqual(99);
    controller.abort(new Error("stop"));
    await waiting.all;
    expect(waiting.state.aborted).toBe(1);
    // pretend ten seconds passed: the database-clock refill makes a token available again
    await pools[0]!.query(`UPDATE "${schema}".rate_buckets SET updated_ms = updated_ms - 10000 WHERE key = 'openai:tokens'`);
    await b.acquire({ requests: 1, tokens: 1 });
  });
});
