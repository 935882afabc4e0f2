import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DatabaseSync } from "node:sqlite";
import { migrateSqlite, SQLITE_MIGRATIONS } from "../../src/store/sqlite-migrations.ts";
import { createSqliteRunStore } from "../../src/store/sqlite-run-store.ts";
import { runStoreContract, sampleRun, sampleSteps } from "./run-store.contract.ts";
import { asRunId } from "../../src/workflows/types.ts";

runStoreContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "octoflow-store-"));
  const store = createSqliteRunStore({ path: join(dir, "test.db") });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("sqlite store specifics", () => {
  it("persists across close and reopen, and two handles on one file see each other's writes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "octoflow-store-"));
    const path = join(dir, "nested", "octoflow.db");
    try {
      const first = createSqliteRunStore({ path });
      const run = sampleRun();
      await first.createRun(run, sampleSteps(run.id), { enqueue: true });
      const second = createSqliteRunStore({ path });
      expect((await second.getRun(run.id))?.id).toBe(run.id);
      const claims = await Promise.all([first.claimJob("a", 10_000_000, 1000), second.claimJob("b", 10_000_000, 1000)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      await first.close();
      await first.close();
      await expect(first.getRun(run.id)).rejects.toThrow(/closed/);
      await second.close();
      const reopened = createSqliteRunStore({ path });
      expect(await reopened.getSteps(run.id)).toEqual(sampleSteps(run.id));
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("list limits that are not whole numbers are rounded down or ignored, never an SQL error", async () => {
    const store = createSqliteRunStore({ path: ":memory:" });
    try {
      const runs = [sampleRun({ createdAt: 1 }), sampleRun({ createdAt: 2 }), sampleRun({ createdAt: 3 })];
      for (const run of runs) await store.createRun(run, []);
      for (let i = 0; i < 3; i++) await store.appendEvent({ type: "run.started", runId: runs[0]!.id, at: i });
      expect(await store.listRuns({ limit: 2.5 })).toHaveLength(2);
      expect(await store.listRuns({ limit: Number.NaN })).toHaveLength(3);
      expect(await store.listRuns({ limit: Number.POSITIVE_INFINITY })).toHaveLength(3);
      expect((await store.listEvents(runs[0]!.id, { limit: 1.9 })).map((e) => e.at)).toEqual([2]);
      expect(await store.listEvents(runs[0]!.id, { limit: Number.NaN })).toHaveLength(3);
    } finally {
      await store.close();
    }
  });

  it("migrations run once, in order, and are recorded", () => {
    const db = new DatabaseSync(":memory:");
    expect(migrateSqlite(db)).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
    expect(migrateSqlite(db)).toEqual([]);
    const rows = db.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as { version: number }[];
    expect(rows.map((r) => Number(r.version))).toEqual(SQLITE_MIGRATIONS.map((m) => m.version));
    expect(() => migrateSqlite(db, [...SQLITE_MIGRATIONS, { version: 99, name: "broken", sql: "CREATE TABLE runs (x)" }])).toThrow();
    expect((db.prepare("SELECT COUNT(*) AS n FROM schema_migrations").get() as { n: number }).n).toBe(SQLITE_MIGRATIONS.length);
    db.close();
  });

  it("group commit is bounded: a burst of writes commits in several transactions, in issue order, none lost", async () => {
    const dir = mkdtempSync(join(tmpdir(), "octoflow-store-"));
    const path = join(dir, "batch.db");
    try {
      const store = createSqliteRunStore({ path, maxBatch: 5, checkpointInWorker: false });
      const run = sampleRun();
      await store.createRun(run, []);
      const observer = new DatabaseSync(path);
      const count = () => Number((observer.prepare("SELECT COUNT(*) AS n FROM events").get() as { n: number }).n);
      let seenAtFirst = -1;
      const writes = Array.from({ length: 23 }, (_, i) => store.appendEvent({ type: "run.started", runId: run.id, at: i }));
      // one failing write in the middle of the burst changes nothing for the others
      const failing = store.appendEvent({ type: "run.started", runId: asRunId("missing"), at: 99 });
      void writes[0]!.then(() => (seenAtFirst = count()));
      await Promise.all(writes);
      await expect(failing).rejects.toThrow();
      expect(seenAtFirst).toBe(5); // the first transaction held 5 writes, not the whole burst
      expect((await store.listEvents(run.id)).map((e) => e.at)).toEqual(Array.from({ length: 23 }, (_, i) => i));
      observer.close();
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
