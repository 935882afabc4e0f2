import { describe, expect, it } from "vitest";
import pg from "pg";
import { createPostgresRunStore } from "../../src/store/postgres-run-store.ts";
import { migratePostgres, POSTGRES_MIGRATIONS } from "../../src/store/postgres-migrations.ts";
import { dropSchemas, SKIP_REASON, TEST_DATABASE_URL, uniqueSchema } from "../helpers/pg-harness.ts";
import { runStoreContract, sampleRun, sampleSteps } from "./run-store.contract.ts";

const url = TEST_DATABASE_URL;

if (url === undefined) {
  describe.skip(`RunStore contract: postgres (${SKIP_REASON})`, () => {
    it("needs PostgreSQL", () => undefined);
  });
} else {
  runStoreContract("postgres", async () => {
    const schema = uniqueSchema("contract");
    const store = await createPostgresRunStore({ connectionString: url, schema, max: 4 });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropSchemas(url, schema);
      },
    };
  });

  describe("postgres store specifics", () => {
    it("migrations are idempotent and safe when several replicas start at once", async () => {
      const schema = uniqueSchema("migrate");
      const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url, max: 2 }));
      try {
        const applied = await Promise.all(pools.map((pool) => migratePostgres(pool, schema)));
        // exactly one of the concurrent callers applied each migration
        const all = POSTGRES_MIGRATIONS.map((m) => m.version);
        expect(applied.flat().sort((a, b) => a - b)).toEqual(all);
        expect(await migratePostgres(pools[0]!, schema)).toEqual([]);
        const versions = await pools[0]!.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
        expect(versions.rows.map((r) => r.version)).toEqual(all);
      } finally {
        await Promise.all(pools.map((p) => p.end()));
        await dropSchemas(url, schema);
      }
    });

    it("two stores (two replicas) share state: a transition or a marker won on one is seen by the other", async () => {
      const schema = uniqueSchema("replicas");
      const a = await createPostgresRunStore({ connectionString: url, schema, max: 3 });
      const b = await createPostgresRunStore({ connectionString: url, schema, max: 3 });
      try {
        const run = sampleRun({ status: "running" });
        await a.createRun(run, sampleSteps(run.id), { enqueue: true });
        const [cancel, finish] = await Promise.all([
          b.transitionRun(run.id, ["queued", "running"], "cancelled", { error: "cancelled by @octocat" }),
          a.transitionRun(run.id, ["running"], "succeeded"),
        ]);
        expect([cancel, finish].filter(Boolean)).toHaveLength(1);
        expect((await a.getRun(run.id))?.status).toBe((await b.getRun(run.id))?.status);
        const winners = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).putMarkerIfAbsent(`pr:${run.id}`, `pr-${i}`)),
        );
        expect(new Set(winners).size).toBe(1);
        const deliveries = await Promise.all([a.recordDelivery("gh-1", "issues"), b.recordDelivery("gh-1", "issues")]);
        expect(deliveries.filter(Boolean)).toHaveLength(1);
        const claims = await Promise.all([a.claimJob("a", 10_000_000, 1000), b.claimJob("b", 10_000_000, 1000)]);
        expect(claims.filter(Boolean)).toHaveLength(1);
        await a.close();
        await expect(a.getRun(run.id)).rejects.toThrow(/closed/);
      } finally {
        await a.close();
        await b.close();
        await dropSchemas(url, schema);
      }
    });

    it("stores what PostgreSQL's types would refuse: U+0000 in a model's output, a fractional clock", async () => {
      const schema = uniqueSchema("nul");
      const store = await createPostgresRunStore({ connectionString: url, schema, max: 2 });
      try {
        const run = sampleRun({ createdAt: 1_700_000_000_000.5 });
        await store.createRun(run, sampleSteps(run.id), { enqueue: true });
        await store.enqueueJob(run.id, 12.75);
        expect((await store.getRun(run.id))?.createdAt).toBe(1_700_000_000_000.5);
        expect((await store.claimJob("w", 100.5, 10.5))?.runId).toBe(run.id);
        const output = { text: "before\u0000after", usage: { inputTokens: 1, outputTokens: 1, cachedTokens: 0 }, costUsd: 0 };
        await store.updateStep(run.id, sampleSteps(run.id)[0]!.stepId, { status: "succeeded", output });
        expect((await store.getSteps(run.id))[0]?.output?.text).toBe("before\uFFFDafter");
      } finally {
        await store.close();
        await dropSchemas(url, schema);
      }
    });

    it("a failing migration names its cause, rolls back, and leaves the pool's connections usable", async () => {
      const schema = uniqueSchema("badmig");
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      try {
        const bad = [{ version: 1, name: "broken", sql: "CREATE TABLE {schema}.t (id int); SELEC 1" }];
        await expect(migratePostgres(pool, schema, bad)).rejects.toThrow(/migration 1 \(broken\) failed: syntax error at or near "SELEC"/);
        // the one connection came back (or was replaced) and the advisory lock is free: a good pass applies
        expect(await migratePostgres(pool, schema, [{ version: 1, name: "fixed", sql: "CREATE TABLE {schema}.t (id int)" }])).toEqual([1]);
      } finally {
        await pool.end();
        await dropSchemas(url, schema);
      }
    });

    it("rejects a schema name that is not a plain identifier", async () => {
      await expect(createPostgresRunStore({ connectionString: url, schema: 'x"; DROP TABLE y; --' })).rejects.toThrow(/schema name/);
    });
  });
}
