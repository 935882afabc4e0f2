/**
 * Scale-out throughput: agent-bound runs (fake agents of fixed latency, 4 steps with a fan-out of 2)
 * executed by 1 replica versus 3 replicas (child processes) on one PostgreSQL, each replica with the
 * same concurrency. Prints runs per second and the ratio 3 ÷ 1. Target: ≥ 2.5.
 *
 *   OCTOFLOW_TEST_DATABASE_URL=postgres://octoflow@127.0.0.1:55432/octoflow_test node bench/scale-throughput.ts
 *
 * RUNS (default 180), LATENCY_MS (default 200), CONCURRENCY (runs per replica, default 4).
 */
import { createPostgresRunStore } from "../src/store/postgres-run-store.ts";
import { installRecorder } from "../test/scale/scale-recorder.ts";
import { spawnFleet, stopReplicas, waitFor } from "../test/scale/fleet.ts";
import { dropSchemas, uniqueSchema } from "../test/helpers/pg-harness.ts";

const url = process.env["OCTOFLOW_TEST_DATABASE_URL"];
if (url === undefined) {
  console.error("Set OCTOFLOW_TEST_DATABASE_URL to a PostgreSQL database (see docs/scaling.md and docs/performance.md).");
  process.exit(2);
}
const RUNS = Number(process.env["RUNS"] ?? 180);
const LATENCY_MS = Number(process.env["LATENCY_MS"] ?? 200);
const CONCURRENCY = Number(process.env["CONCURRENCY"] ?? 4);

/** Runs RUNS runs on `size` replicas; returns runs per second from the first run created to the last finished. */
async function measure(size: number): Promise<{ perSecond: number; wallMs: number; waitMs: number; runMs: number }> {
  const schema = uniqueSchema("bench");
  const store = await createPostgresRunStore({ connectionString: url as string, schema, max: 2 });
  await installRecorder(store.pool, schema);
  const names = Array.from({ length: size }, (_, i) => `r${i + 1}`);
  const replicas = await spawnFleet(names, { url: url as string, schema, concurrency: CONCURRENCY, latencyMs: LATENCY_MS });
  try {
    await Promise.all(
      replicas.map((replica, r) =>
        replica.request({
          type: "start",
          runs: Array.from({ length: RUNS }, (_, i) => i)
            .filter((i) => i % size === r)
            .map((i) => ({ number: i, group: `acme/widgets#${i}:bench` })),
        }),
      ),
    );
    const done = async () =>
      Number((await store.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".runs WHERE status = 'succeeded'`)).rows[0]?.n) === RUNS;
    await waitFor(done, 3_000, 50);
    const span = await store.pool.query<{ first: string; last: string }>(
      `SELECT min(created_at) AS first, max((record->>'finishedAt')::bigint) AS last FROM "${schema}".runs`,
    );
    const wallMs = Number(span.rows[0]?.last) - Number(span.rows[0]?.first);
    const parts = await store.pool.query<{ wait: string; run: string }>(
      `SELECT avg((record->>'startedAt')::double precision - created_at) AS wait, avg((record->>'finishedAt')::bigint - (record->>'startedAt')::bigint) AS run FROM "${schema}".runs`,
    );
    return { perSecond: (RUNS / wallMs) * 1000, wallMs, waitMs: Number(parts.rows[0]?.wait), runMs: Number(parts.rows[0]?.run) };
  } finally {
    await stopReplicas(replicas);
    await store.close();
    await dropSchemas(url as string, schema, `${schema}_boss`);
  }
}

const one = await measure(1);
const three = await measure(3);
console.log(`${RUNS} runs, 4 steps (critical path 3 × ${LATENCY_MS} ms), ${CONCURRENCY} runs at a time per replica`);
const line = (r: typeof one) => `${r.perSecond.toFixed(2)} runs/s (wall ${r.wallMs} ms; a run executes in ${r.runMs.toFixed(0)} ms on average)`;
console.log(`1 replica : ${line(one)}`);
console.log(`3 replicas: ${line(three)}`);
console.log(`throughput ratio 3 ÷ 1: ${(three.perSecond / one.perSecond).toFixed(2)} (target ≥ 2.5)`);
