import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { openStore } from "../../src/store/open-store.ts";
import { createQueueFor } from "../../src/queue/create-queue.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { rateLimiterForStore } from "../../src/resilience/postgres-rate-limiter.ts";
import { sampleRun, sampleSteps } from "../contract/run-store.contract.ts";
import { SKIP_REASON, TEST_DATABASE_URL } from "./pg-harness.ts";

const url = TEST_DATABASE_URL;
const suite = url === undefined ? describe.skip : describe;

suite(`DATABASE_URL=postgres:// selects the PostgreSQL store, pg-boss and the fleet-wide limiter${url === undefined ? ` (${SKIP_REASON})` : ""}`, () => {
  // openStore uses the default schemas, so this file works in a database of its own
  const database = `t_open_${randomBytes(5).toString("hex")}`;
  let databaseUrl = "";
  const admin = () => new pg.Client({ connectionString: url });
  beforeAll(async () => {
    if (url === undefined) return;
    const client = admin();
    await client.connect();
    await client.query(`CREATE DATABASE ${database}`);
    await client.end();
    const parsed = new URL(url);
    parsed.pathname = `/${database}`;
    databaseUrl = parsed.toString();
  });
  afterAll(async () => {
    if (url === undefined) return;
    const client = admin();
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await client.end();
  });

  it("openStore + createQueueFor give the PostgreSQL store and a pg-boss queue that enqueue in one transaction", async () => {
    const env = { DATABASE_URL: databaseUrl, OCTOFLOW_CONCURRENCY: 2 };
    const store = await openStore(env);
    const queue = await createQueueFor(env, store);
    try {
      expect("boss" in queue).toBe(true);
      const run = sampleRun();
      await store.createRun(run, sampleSteps(run.id), { enqueue: true });
      expect(await queue.stats()).toMatchObject({ depth: 1 });
      // the embedded job table stays empty: the job went to pg-boss
      expect(await store.queueStats(Number.MAX_SAFE_INTEGER)).toEqual({ depth: 0, oldestAgeMs: 0 });
      const limiterFor = rateLimiterForStore(store);
      expect(limiterFor).toBeDefined();
      await limiterFor?.("openai", { requestsPerMinute: 60 }).acquire({ requests: 1, tokens: 0 });
      const check = new pg.Client({ connectionString: databaseUrl });
      await check.connect();
      const tables = await check.query<{ schema: string }>(
        `SELECT DISTINCT table_schema AS schema FROM information_schema.tables WHERE table_schema LIKE 'octoflow%' ORDER BY 1`,
      );
      await check.end();
      expect(tables.rows.map((r) => r.schema)).toEqual(["octoflow", "octoflow_boss"]);
    } finally {
      await queue.stop();
      await store.close();
    }
  });

  it("a SQLite or in-memory store gets the embedded queue and no fleet-wide limiter; a mismatch is refused", async () => {
    const memory = createMemoryRunStore();
    const embedded = await createQueueFor({}, memory);
    expect("boss" in embedded).toBe(false);
    expect(rateLimiterForStore(memory)).toBeUndefined();
    await expect(createQueueFor({ DATABASE_URL: databaseUrl }, memory)).rejects.toThrow(/not the PostgreSQL store/);
    await memory.close();
  });
});
