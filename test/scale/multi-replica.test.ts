/**
 * Three replicas (child processes running the real engine on the PostgreSQL store and the pg-boss
 * queue) on one database. Assertions count rows in the database: runs, events, agent calls, side
 * effects, pull requests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresRunStore, type PostgresRunStore } from "../../src/store/postgres-run-store.ts";
import { FINAL_STEP, installRecorder } from "./scale-recorder.ts";
import { spawnFleet, stopReplicas, waitFor, type Replica } from "./fleet.ts";
import { dropSchemas, SKIP_REASON, TEST_DATABASE_URL, uniqueSchema } from "../helpers/pg-harness.ts";

const url = TEST_DATABASE_URL;
const suite = url === undefined ? describe.skip : describe;
const STEPS = 4;

suite(`three replicas on one PostgreSQL${url === undefined ? ` (${SKIP_REASON})` : ""}`, () => {
  const schema = uniqueSchema("fleet");
  let db: PostgresRunStore;
  let replicas: Replica[] = [];
  const q = async <R extends Record<string, unknown>>(sql: string, values: unknown[] = []) =>
    (await db.pool.query<R>(sql.replaceAll("$S", `"${schema}"`), values)).rows;
  const count = async (sql: string, values: unknown[] = []) => Number((await q<{ n: string }>(sql, values))[0]?.n ?? 0);

  beforeAll(async () => {
    if (url === undefined) return;
    db = await createPostgresRunStore({ connectionString: url, schema, max: 4 });
    await installRecorder(db.pool, schema);
    // the three replicas start together: store migrations and pg-boss installation race for real
    replicas = await spawnFleet(["r1", "r2", "r3"], { url, schema, concurrency: 6, latencyMs: 40 });
  }, 120_000);

  afterAll(async () => {
    if (url === undefined) return;
    await stopReplicas(replicas);
    await db?.close();
    await dropSchemas(url, schema, `${schema}_boss`);
  }, 60_000);

  it("300 runs: every run completes exactly once, every step's side effect happens once, one active run per group", async () => {
    // 100 groups (issues); every replica starts one run of each, so each group has 3 runs from 3 replicas
    const started = await Promise.all(
      replicas.map((replica) =>
        replica.request({ type: "start", runs: Array.from({ length: 100 }, (_, i) => ({ number: i, group: `acme/widgets#${i}:scale` })) }),
      ),
    );
    const runIds = started.flatMap((r) => (r.type === "started" ? r.runIds : []));
    expect(runIds).toHaveLength(300);
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM $S.runs WHERE status IN ('succeeded','failed','cancelled')`)) === 300, 600);

    expect(await q(`SELECT status, count(*)::int AS n FROM $S.runs GROUP BY status`)).toEqual([{ status: "succeeded", n: 300 }]);
    // exactly one run.finished per run
    expect(await q(`SELECT run_id FROM $S.events WHERE type = 'run.finished' GROUP BY run_id HAVING count(*) <> 1`)).toEqual([]);
    expect(await count(`SELECT count(DISTINCT run_id) AS n FROM $S.events WHERE type = 'run.finished'`)).toBe(300);
    // every step executed once (no duplicate delivery), every side effect and pull request exactly once
    expect(await count(`SELECT count(*) AS n FROM $S.scale_attempts`)).toBe(300 * STEPS);
    expect(await count(`SELECT count(DISTINCT (run_id, step_id)) AS n FROM $S.scale_attempts`)).toBe(300 * STEPS);
    expect(await count(`SELECT count(*) AS n FROM $S.scale_effects`)).toBe(300 * STEPS);
    expect(await count(`SELECT count(*) AS n FROM $S.scale_prs`)).toBe(300);
    // the work was shared
    const perWorker = await q<{ worker: string; n: number }>(`SELECT worker, count(*)::int AS n FROM $S.scale_attempts GROUP BY worker ORDER BY worker`);
    expect(perWorker.map((r) => r.worker)).toEqual(["r1", "r2", "r3"]);
    // runs of one group never overlapped, although they were started and executed on different replicas
    const overlaps = await count(`
      WITH spans AS (
        SELECT r.concurrency_key AS key, a.run_id, min(a.started_ms) AS s, max(a.finished_ms) AS f
        FROM $S.scale_attempts a JOIN $S.runs r ON r.id = a.run_id GROUP BY 1, 2)
      SELECT count(*) AS n FROM spans x JOIN spans y ON x.key = y.key AND x.run_id < y.run_id AND x.s < y.f AND y.s < x.f`);
    expect(overlaps).toBe(0);
    const crossReplicaGroups = await count(`
      SELECT count(*) AS n FROM (SELECT r.concurrency_key FROM $S.scale_attempts a JOIN $S.runs r ON r.id = a.run_id
        GROUP BY 1 HAVING count(DISTINCT a.worker) > 1) g`);
    expect(crossReplicaGroups).toBeGreaterThan(0);
  }, 180_000);

  it("the same webhook delivered to three replicas at once starts one run", async () => {
    for (let d = 0; d < 10; d++) {
      const deliveryId = `delivery-${schema}-${d}`;
      const replies = await Promise.all(replicas.map((r) => r.request({ type: "deliver", deliveryId, number: 1000 + d })));
      expect(replies.filter((r) => r.type === "delivered" && r.started)).toHaveLength(1);
      expect(await count(`SELECT count(*) AS n FROM $S.runs WHERE record->'trigger'->>'deliveryId' = $1`, [deliveryId])).toBe(1);
    }
    expect(await count(`SELECT count(*) AS n FROM $S.deliveries`)).toBe(10);
  }, 60_000);

  it("a cancel on one replica stops the run executing on another; every replica reports the same status", async () => {
    const started = await replicas[0]!.request({ type: "start", runs: [{ number: 3000, group: "acme/widgets#3000:cancel", latencyMs: 5_000 }] });
    const runId = started.type === "started" ? started.runIds[0] : undefined;
    if (runId === undefined) throw new Error("no run started");
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM $S.scale_attempts WHERE run_id = $1`, [runId])) === 1, 300, 50);
    const [executing] = await q<{ worker: string }>(`SELECT worker FROM $S.scale_attempts WHERE run_id = $1`, [runId]);
    const other = replicas.find((r) => r.name !== executing?.worker) as Replica;
    expect(await other.request({ type: "cancel", runId })).toMatchObject({ type: "cancelled", cancelled: true });
    // the executing replica notices through its run row, aborts the step and records the end once
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM $S.events WHERE run_id = $1 AND type = 'run.finished'`, [runId])) === 1, 100, 50);
    for (const replica of replicas) {
      expect(await replica.request({ type: "status", runId })).toMatchObject({ type: "status", status: "cancelled", steps: { [FINAL_STEP]: "cancelled" } });
    }
    expect(await q(`SELECT step_id, finished_ms FROM $S.scale_attempts WHERE run_id = $1`, [runId])).toEqual([{ step_id: "analyse", finished_ms: null }]);
    expect(await count(`SELECT count(*) AS n FROM $S.scale_effects WHERE run_id = $1`, [runId])).toBe(0);
    expect(await other.request({ type: "cancel", runId })).toMatchObject({ cancelled: false });
  }, 60_000);

  it("a replica stopped gracefully in the middle of its runs hands them over; they finish on the others", async () => {
    const leaving = replicas[2] as Replica;
    const started = await Promise.all(
      replicas.map((replica, r) =>
        replica.request({
          type: "start",
          runs: Array.from({ length: 6 }, (_, i) => ({ number: 4000 + r * 10 + i, group: `acme/widgets#${4000 + r * 10 + i}:handover`, latencyMs: 1_500 })),
        }),
      ),
    );
    const runIds = started.flatMap((r) => (r.type === "started" ? r.runIds : []));
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM $S.scale_attempts WHERE worker = $1 AND run_id = ANY($2) AND finished_ms IS NULL`, [leaving.name, runIds])) >= 2, 300, 20);
    expect(await leaving.request({ type: "stop" }, 30_000)).toMatchObject({ type: "stopped" });
    expect(await leaving.exited).toBe("0");
    replicas = replicas.filter((r) => r !== leaving);
    const interrupted = await q<{ run_id: string }>(
      `SELECT DISTINCT run_id FROM $S.scale_attempts WHERE worker = $1 AND run_id = ANY($2) AND finished_ms IS NULL`,
      [leaving.name, runIds],
    );
    expect(interrupted.length).toBeGreaterThan(0);
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM $S.runs WHERE id = ANY($1) AND status = 'succeeded'`, [runIds])) === runIds.length, 300);
    const finishers = await q<{ worker: string }>(
      `SELECT DISTINCT worker FROM $S.scale_attempts WHERE run_id = ANY($1) AND step_id = $2 AND finished_ms IS NOT NULL`,
      [interrupted.map((r) => r.run_id), FINAL_STEP],
    );
    expect(finishers.length).toBeGreaterThan(0);
    expect(finishers.every((f) => f.worker !== leaving.name)).toBe(true);
    expect(await q(`SELECT run_id FROM $S.events WHERE type = 'run.finished' AND run_id = ANY($1) GROUP BY run_id HAVING count(*) <> 1`, [runIds])).toEqual([]);
    expect(await count(`SELECT count(*) AS n FROM $S.scale_effects WHERE run_id = ANY($1)`, [runIds])).toBe(runIds.length * STEPS);
    expect(await count(`SELECT count(*) AS n FROM $S.scale_prs WHERE run_id = ANY($1)`, [runIds])).toBe(runIds.length);
  }, 120_000);

  it("kill -9 of a replica in the middle of its steps: its runs finish on the others, no duplicate side effect", async () => {
    const [victim, ...survivors] = replicas as [Replica, ...Replica[]];
    expect(victim.name).toBe("r1");
    const before = await count(`SELECT count(*) AS n FROM $S.runs`);
    const started = await Promise.all(
      replicas.map((replica, r) =>
        replica.request({ type: "start", runs: Array.from({ length: 30 }, (_, i) => ({ number: 2000 + r * 100 + i, group: `acme/widgets#${2000 + r * 100 + i}:kill` })) }),
      ),
    );
    const runIds = started.flatMap((r) => (r.type === "started" ? r.runIds : []));
    const total = runIds.length;
    expect(total).toBe(30 * replicas.length);
    // wait until the victim is in the middle of several steps, then kill it without warning
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM $S.scale_attempts WHERE worker = 'r1' AND finished_ms IS NULL AND run_id = ANY($1)`, [runIds])) >= 3, 500, 20);
    victim.child.kill("SIGKILL");
    expect(await victim.exited).toBe("SIGKILL");
    const inFlight = await q<{ run_id: string; step_id: string }>(
      `SELECT run_id, step_id FROM $S.scale_attempts WHERE worker = 'r1' AND finished_ms IS NULL AND run_id = ANY($1)`,
      [runIds],
    );
    expect(inFlight.length).toBeGreaterThan(0);

    // heartbeat 10 s + supervisor 1 s + retry backoff: bounded wait of 90 s
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM $S.runs WHERE status IN ('succeeded','failed','cancelled')`)) === before + total, 450);
    expect(await count(`SELECT count(*) AS n FROM $S.runs WHERE id = ANY($1) AND status = 'succeeded'`, [runIds])).toBe(total);
    expect(await q(`SELECT run_id FROM $S.events WHERE type = 'run.finished' AND run_id = ANY($1) GROUP BY run_id HAVING count(*) <> 1`, [runIds])).toEqual([]);
    // the runs the victim was executing were finished by the survivors
    const finishers = await q<{ worker: string }>(
      `SELECT DISTINCT worker FROM $S.scale_attempts WHERE run_id = ANY($1) AND step_id = $2 AND finished_ms IS NOT NULL`,
      [inFlight.map((r) => r.run_id), FINAL_STEP],
    );
    expect(finishers.map((r) => r.worker).every((w) => survivors.some((s) => s.name === w))).toBe(true);
    // only steps the victim had started ran twice (its attempt first, then one survivor's); every
    // side effect exists exactly once
    const repeated = await q<{ workers: string[] }>(
      `SELECT array_agg(worker ORDER BY id) AS workers FROM $S.scale_attempts WHERE run_id = ANY($1) GROUP BY run_id, step_id HAVING count(*) > 1`,
      [runIds],
    );
    for (const r of repeated) {
      expect(r.workers).toHaveLength(2);
      expect(r.workers[0]).toBe(victim.name);
      expect(r.workers[1]).not.toBe(victim.name);
    }
    expect(repeated.length).toBeGreaterThanOrEqual(inFlight.length);
    expect(await count(`SELECT count(*) AS n FROM $S.scale_effects WHERE run_id = ANY($1)`, [runIds])).toBe(total * STEPS);
    expect(await count(`SELECT count(*) AS n FROM $S.scale_prs WHERE run_id = ANY($1)`, [runIds])).toBeLessThanOrEqual(total);
    expect(await count(`SELECT count(*) AS n FROM $S.markers WHERE key = ANY($1)`, [runIds.map((id) => `pr:${id}`)])).toBe(total);
    // a pull request is missing only where the victim won the marker and died before opening it
    const missing = await q<{ value: string }>(
      `SELECT m.value FROM $S.markers m LEFT JOIN $S.scale_prs p ON m.key = 'pr:' || p.run_id
       WHERE m.key = ANY($1) AND p.run_id IS NULL`,
      [runIds.map((id) => `pr:${id}`)],
    );
    expect(missing.every((m) => m.value.startsWith("r1:"))).toBe(true);
    replicas = survivors;
  }, 180_000);
});
