/**
 * Webhook-to-first-progress latency with 3 replicas on one PostgreSQL: from `engine.start()` (the
 * run row and its pg-boss job committed in one transaction, what a webhook handler does before it
 * answers) to the first `step.started` event in the store, whichever replica picks the job up.
 * Runs arrive at a steady rate, spread over the replicas. Prints p50 / p95 / p99 / max and
 * p99 ÷ 1 s. Target: p99 ≤ 1 s on loopback.
 *
 *   OCTOFLOW_TEST_DATABASE_URL=postgres://octoflow@127.0.0.1:55432/octoflow_test node bench/scale-latency.ts
 *
 * RUNS (default 200), INTERVAL_MS between arrivals (default 50: about a third of the fleet busy), LATENCY_MS agent latency (default 100).
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
const RUNS = Number(process.env["RUNS"] ?? 200);
const INTERVAL_MS = Number(process.env["INTERVAL_MS"] ?? 50);
const LATENCY_MS = Number(process.env["LATENCY_MS"] ?? 100);

const schema = uniqueSchema("latency");
const store = await createPostgresRunStore({ connectionString: url, schema, max: 2 });
await installRecorder(store.pool, schema);
const replicas = await spawnFleet(["r1", "r2", "r3"], { url, schema, concurrency: 8, latencyMs: LATENCY_MS });
try {
  const starts: Promise<unknown>[] = [];
  for (let i = 0; i < RUNS; i++) {
    const replica = replicas[i % replicas.length];
    if (replica) starts.push(replica.request({ type: "start", runs: [{ number: i, group: `acme/widgets#${i}:latency` }] }));
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
  }
  await Promise.all(starts);
  await waitFor(
    async () => Number((await store.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".runs WHERE status = 'succeeded'`)).rows[0]?.n) === RUNS,
    3_000,
    50,
  );
  const rows = await store.pool.query<{ ms: string }>(`
    SELECT round(min((e.event->>'at')::double precision) - r.created_at) AS ms
    FROM "${schema}".runs r JOIN "${schema}".events e ON e.run_id = r.id AND e.type = 'step.started'
    GROUP BY r.id, r.created_at ORDER BY ms`);
  const ms = rows.rows.map((r) => Number(r.ms));
  const pct = (p: number) => ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)] ?? NaN;
  console.log(`${ms.length} runs arriving every ${INTERVAL_MS} ms over 3 replicas (8 runs at a time each)`);
  console.log(`start → first step.started: p50 ${pct(50)} ms, p95 ${pct(95)} ms, p99 ${pct(99)} ms, max ${ms.at(-1)} ms`);
  console.log(`p99 ÷ 1000 ms: ${(pct(99) / 1000).toFixed(3)} (target ≤ 1)`);
} finally {
  await stopReplicas(replicas);
  await store.close();
  await dropSchemas(url, schema, `${schema}_boss`);
}
