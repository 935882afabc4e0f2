/**
 * One replica for the multi-replica tests and the scale benchmarks, run as a child process:
 * the real engine over the PostgreSQL store and the pg-boss queue, with recording fake agents.
 * Driven over IPC by `fleet.ts` (start runs, deliver a webhook, stop).
 *
 * Environment: OCTOFLOW_TEST_DATABASE_URL, SCALE_SCHEMA, SCALE_WORKER, SCALE_CONCURRENCY,
 * SCALE_LATENCY_MS, SCALE_HEARTBEAT_SECONDS.
 */
import pg from "pg";
import { createEngine } from "../../src/workflows/engine.ts";
import { createPostgresRunStore } from "../../src/store/postgres-run-store.ts";
import { createPgBossQueue } from "../../src/queue/pg-boss-queue.ts";
import { asRunId, type RunPlan, type Trigger } from "../../src/workflows/types.ts";
import { recordingAgents, scalePlan } from "./scale-recorder.ts";

export type FleetCommand =
  | { id: number; type: "start"; runs: { number: number; group: string; latencyMs?: number }[] }
  | { id: number; type: "cancel"; runId: string }
  | { id: number; type: "status"; runId: string }
  | { id: number; type: "deliver"; deliveryId: string; number: number }
  | { id: number; type: "stop" };

export type FleetReply =
  | { type: "ready"; worker: string }
  | { id: number; type: "started"; runIds: string[] }
  | { id: number; type: "delivered"; started: boolean; runId?: string }
  | { id: number; type: "stopped" }
  | { id: number; type: "cancelled"; cancelled: boolean }
  | { id: number; type: "status"; status: string | undefined; steps: Record<string, string> }
  | { id: number; type: "error"; message: string };

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const url = env("OCTOFLOW_TEST_DATABASE_URL");
const schema = env("SCALE_SCHEMA");
const worker = env("SCALE_WORKER");
const concurrency = Number(env("SCALE_CONCURRENCY", "4"));
const latencyMs = Number(env("SCALE_LATENCY_MS", "50"));
const heartbeatSeconds = Number(env("SCALE_HEARTBEAT_SECONDS", "10"));

const send = (reply: FleetReply) => process.send?.(reply);

const trigger = (number: number, deliveryId?: string, latency?: number): Trigger => ({
  kind: "manual",
  repo: { owner: "acme", name: "widgets", defaultBranch: "main" },
  number,
  isPullRequest: false,
  actor: "scale-test",
  inputs: latency === undefined ? {} : { latencyMs: String(latency) },
  ...(deliveryId === undefined ? {} : { deliveryId }),
});

const store = await createPostgresRunStore({ connectionString: url, schema, max: concurrency * 2 + 4 });
const queue = await createPgBossQueue({
  store,
  connectionString: url,
  concurrency,
  heartbeatSeconds,
  superviseIntervalSeconds: 1,
  retryDelaySeconds: 1,
  stopTimeoutMs: Number(env("SCALE_STOP_TIMEOUT_MS", "1000")),
  max: 6,
  onError: (error) => process.stderr.write(`[${worker}] pg-boss: ${error.message}\n`),
});
const recorderPool = new pg.Pool({ connectionString: url, max: concurrency + 2 });
const agents = recordingAgents({ pool: recorderPool, schema, store, worker, latencyMs });
const engine = createEngine({ store, queue, agents, stepConcurrency: 4, cancelPollMs: 300, newRunId: () => `${worker}-${crypto.randomUUID()}` });
await queue.start(engine.execute);

const plan = (group: string): RunPlan => scalePlan(group);

process.on("message", (message: FleetCommand) => {
  void (async () => {
    try {
      switch (message.type) {
        case "start": {
          const runIds: string[] = [];
          for (const r of message.runs) runIds.push((await engine.start(plan(r.group), trigger(r.number, undefined, r.latencyMs))).id);
          send({ id: message.id, type: "started", runIds });
          break;
        }
        case "deliver": {
          // what the webhook handler does: de-dupe the delivery, then start the run
          if (await store.recordDelivery(message.deliveryId, "issues")) {
            const run = await engine.start(plan(`acme/widgets#${message.number}:scale`), trigger(message.number, message.deliveryId));
            send({ id: message.id, type: "delivered", started: true, runId: run.id });
          } else send({ id: message.id, type: "delivered", started: false });
          break;
        }
        case "cancel": {
          send({ id: message.id, type: "cancelled", cancelled: await engine.cancel(asRunId(message.runId), `cancelled from ${worker}`) });
          break;
        }
        case "status": {
          const view = await engine.getStatus(asRunId(message.runId));
          const steps = Object.fromEntries((view?.steps ?? []).map((step) => [step.stepId, step.status]));
          send({ id: message.id, type: "status", status: view?.run.status, steps });
          break;
        }
        case "stop": {
          await queue.stop();
          await store.close();
          await recorderPool.end();
          send({ id: message.id, type: "stopped" });
          process.disconnect?.();
          break;
        }
      }
    } catch (error) {
      send({ id: message.id, type: "error", message: (error as Error).stack ?? String(error) });
    }
  })();
});
process.on("disconnect", () => process.exit(0));
send({ type: "ready", worker });
