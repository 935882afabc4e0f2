import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresRunStore, type PostgresRunStore } from "../../src/store/postgres-run-store.ts";
import { createPgBossQueue, type PgBossQueue } from "../../src/queue/pg-boss-queue.ts";
import type { RunId } from "../../src/workflows/types.ts";
import { sampleRun, sampleSteps } from "../store/run-store.contract.ts";
import { dropSchemas, SKIP_REASON, TEST_DATABASE_URL, uniqueSchema } from "../helpers/pg-harness.ts";

const url = TEST_DATABASE_URL;
const suite = url === undefined ? describe.skip : describe;

/** Resolves when `done()` (observable store / queue state) is true, looking every 50 ms, at most `limit` times. */
async function until(done: () => boolean | Promise<boolean>, limit = 400): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not reached");
}

suite(`pg-boss queue${url === undefined ? ` (${SKIP_REASON})` : ""}`, () => {
  const schema = uniqueSchema("queue");
  let storeA: PostgresRunStore;
  let storeB: PostgresRunStore;
  let queueA: PgBossQueue;
  let queueB: PgBossQueue;
  const jobsOf = async (runId: RunId) =>
    (await queueA.boss.findJobs<{ runId: string }>(queueA.queueName, { data: { runId } })).map((j) => j.state);

  beforeAll(async () => {
    if (url === undefined) return;
    storeA = await createPostgresRunStore({ connectionString: url, schema, max: 4 });
    storeB = await createPostgresRunStore({ connectionString: url, schema, max: 4 });
    // two replicas starting at once: pg-boss install and queue creation must not collide
    [queueA, queueB] = await Promise.all([
      createPgBossQueue({ store: storeA, connectionString: url, concurrency: 4, retryDelaySeconds: 1, superviseIntervalSeconds: 1, max: 4 }),
      createPgBossQueue({ store: storeB, connectionString: url, concurrency: 4, retryDelaySeconds: 1, superviseIntervalSeconds: 1, max: 4 }),
    ]);
  });
  afterAll(async () => {
    if (url === undefined) return;
    await queueA?.stop();
    await queueB?.stop();
    await storeA?.close();
    await storeB?.close();
    await dropSchemas(url, schema, `${schema}_boss`);
  });

  it("writes the run and its job in one transaction: a rolled-back run leaves no job", async () => {
    const run = sampleRun({ concurrencyKey: "acme/widgets#1:tx" });
    await storeA.createRun(run, sampleSteps(run.id), { enqueue: true });
    expect(await jobsOf(run.id)).toEqual(["created"]);
    // a duplicate createRun fails as a whole: still one job
    await expect(storeB.createRun(run, sampleSteps(run.id), { enqueue: true })).rejects.toThrow(/already exists/);
    expect(await jobsOf(run.id)).toEqual(["created"]);
    // a job sent inside a transaction that rolls back is gone with it
    const other = sampleRun({ concurrencyKey: "acme/widgets#2:tx" });
    await storeA.createRun(other, []);
    await expect(
      storeA.transaction(async (client) => {
        await queueA.enqueueInTransaction(client, { runId: other.id, runAt: Date.now() });
        throw new Error("rollback");
      }),
    ).rejects.toThrow("rollback");
    expect(await jobsOf(other.id)).toEqual([]);
    // enqueueing an existing run twice from two replicas keeps one waiting job
    await Promise.all([queueA.enqueue(other.id), queueB.enqueue(other.id), storeB.enqueueJob(other.id, Date.now())]);
    expect(await jobsOf(other.id)).toEqual(["created"]);
    expect((await queueA.stats()).depth).toBeGreaterThanOrEqual(2);
    await expect(queueA.enqueue("missing" as RunId)).rejects.toThrow(/does not exist/);
  });

  it("workers on two replicas run every job once, one active run per concurrency key, retrying failures with backoff", async () => {
    const seen = new Map<string, string[]>();
    const active = new Map<string, number>();
    let maxPerKey = 0;
    let maxOverall = 0;
    let overall = 0;
    const failOnce = new Set<string>();
    // The first jobs are held until two execute at once (so parallel execution is observed, not
    // hoped for), then every job runs straight through.
    let hold = true;
    const held: (() => void)[] = [];
    const handler = (replica: string) => async (runId: RunId) => {
      const run = await storeA.getRun(runId);
      const key = run?.concurrencyKey ?? "?";
      active.set(key, (active.get(key) ?? 0) + 1);
      overall += 1;
      maxPerKey = Math.max(maxPerKey, active.get(key) ?? 0);
      maxOverall = Math.max(maxOverall, overall);
      try {
        if (hold) await new Promise<void>((resolve) => held.push(resolve));
        seen.set(runId, [...(seen.get(runId) ?? []), replica]);
        if (run?.workflow === "flaky" && !failOnce.has(runId)) {
          failOnce.add(runId);
          throw new Error("transient");
        }
      } finally {
        active.set(key, (active.get(key) ?? 1) - 1);
        overall -= 1;
      }
    };
    const runs = Array.from({ length: 24 }, (_, i) =>
      sampleRun({ concurrencyKey: `acme/widgets#${i % 4}:work`, workflow: i % 8 === 0 ? "flaky" : "feature-development" }),
    );
    await Promise.all(runs.map((run, i) => (i % 2 ? storeA : storeB).createRun(run, sampleSteps(run.id), { enqueue: true })));
    await queueA.start(handler("a"));
    await queueB.start(handler("b"));
    expect(queueA.running()).toBe(true);
    await until(() => overall >= 2);
    hold = false;
    for (const release of held.splice(0)) release();
    const expected = (run: (typeof runs)[number]) => (run.workflow === "flaky" ? 2 : 1);
    await until(() => runs.every((run) => (seen.get(run.id)?.length ?? 0) >= expected(run)));
    await until(async () => (await queueA.stats()).depth === 0);
    // every job is completed in pg-boss: none is left to run again (a retry would be created / retry)
    await until(async () => (await Promise.all(runs.map((run) => jobsOf(run.id)))).every((states) => states.length > 0 && states.every((s) => s === "completed")));
    for (const run of runs) expect(seen.get(run.id)?.length, run.id).toBe(expected(run));
    expect(maxPerKey).toBe(1);
    expect(maxOverall).toBeGreaterThan(1);
    expect(new Set([...seen.values()].flat())).toEqual(new Set(["a", "b"]));
  });

  it("a replica whose queue has stopped still writes the job of a run it creates, for the others to execute", async () => {
    await queueB.stop();
    expect(queueB.running()).toBe(false);
    await queueB.stop(); // idempotent
    const run = sampleRun({ concurrencyKey: "acme/widgets#9:late" });
    await storeB.createRun(run, sampleSteps(run.id), { enqueue: true });
    expect((await jobsOf(run.id)).length).toBe(1);
  });

  it("enqueueing an existing run adds no job while one waits, or while its active job executes the running run", async () => {
    const storeC = await createPostgresRunStore({ connectionString: url as string, schema, max: 2 });
    const queueC = await createPgBossQueue({ store: storeC, connectionString: url as string, queueName: "resume-test", max: 2 });
    const states = async (runId: RunId) =>
      (await queueC.boss.findJobs<{ runId: string }>("resume-test", { data: { runId } })).map((j) => j.state).sort();
    try {
      const run = sampleRun({ status: "running", concurrencyKey: "acme/widgets#5:resume" });
      await storeC.createRun(run, sampleSteps(run.id), { enqueue: true });
      await queueC.enqueue(run.id); // a waiting job exists
      expect(await states(run.id)).toEqual(["created"]);
      const [claimed] = await queueC.boss.fetch<{ runId: string }>("resume-test");
      expect(claimed?.data.runId).toBe(run.id);
      await Promise.all([queueC.enqueue(run.id), storeC.enqueueJob(run.id, Date.now())]); // what resumeUnfinished does on every replica start
      expect(await states(run.id)).toEqual(["active"]);
      // a retried run (queued again) whose previous job has not been settled yet does get its job
      await storeC.transitionRun(run.id, ["running"], "queued");
      await queueC.enqueue(run.id);
      expect(await states(run.id)).toEqual(["active", "created"]);
    } finally {
      await queueC.stop();
      await storeC.close();
    }
  });
});
