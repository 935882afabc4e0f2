/**
 * The multi-replica tests' side-effect recorder: fake agents of fixed latency whose every call and
 * every side effect lands in tables of the test schema, so assertions count real rows.
 *
 * - `scale_attempts`: one row per agent call (no constraint) — a step executed twice shows up here.
 * - `scale_effects`: the step's side effect, created by natural key (like a branch found again by
 *   name): primary key (run, step).
 * - `scale_prs`: the "pull request", opened only by the replica that wins the `pr:<run>` marker
 *   (`putMarkerIfAbsent`); a plain insert, so two winners would violate the primary key and fail the run.
 */
import type { Pool } from "pg";
import { NonRetriableError } from "../../src/errors/non-retriable-error.ts";
import type { AgentRunner, RunStore } from "../../src/workflows/ports.ts";
import { asStepId, type RunPlan, type StepOutput } from "../../src/workflows/types.ts";

/** Creates the recorder's tables in `schema` (idempotent). */
export async function installRecorder(pool: Pool, schema: string): Promise<void> {
  await pool.query(`
    CREATE TABLE IF NOT EXISTS "${schema}".scale_attempts (
      id bigserial PRIMARY KEY, run_id text NOT NULL, step_id text NOT NULL, worker text NOT NULL,
      attempt int NOT NULL, started_ms double precision NOT NULL, finished_ms double precision);
    CREATE TABLE IF NOT EXISTS "${schema}".scale_effects (
      run_id text NOT NULL, step_id text NOT NULL, worker text NOT NULL, PRIMARY KEY (run_id, step_id));
    CREATE TABLE IF NOT EXISTS "${schema}".scale_prs (run_id text PRIMARY KEY, worker text NOT NULL);
  `);
}

/** The step whose result is "a pull request". */
export const FINAL_STEP = "finalise";

/**
 * A 4-step plan with a fan-out of 2: analyse → (generate, review) → finalise.
 * `group` is the concurrency group (one active run per group across the fleet).
 */
export function scalePlan(group: string): RunPlan {
  const step = (id: string, needs: string[]) => ({
    id: asStepId(id),
    name: id,
    role: "generate",
    prompt: `do ${id}`,
    needs: needs.map(asStepId),
    retries: 2,
    timeoutMs: 60_000,
    output: "none" as const,
  });
  return {
    workflow: "scale",
    description: "multi-replica test workflow",
    steps: [step("analyse", []), step("generate", ["analyse"]), step("review", ["analyse"]), step(FINAL_STEP, ["generate", "review"])],
    inputs: {},
    concurrency: { group, cancelInProgress: false },
    customRoles: {},
  };
}

/**
 * Fake agents: wait `latencyMs` (abortable), then create the step's side effect; the final step
 * also opens the run's "pull request" through a store marker.
 */
export function recordingAgents(options: { pool: Pool; schema: string; store: RunStore; worker: string; latencyMs: number }): AgentRunner {
  const { pool, store, worker, latencyMs } = options;
  const s = `"${options.schema}"`;
  return {
    async run(request) {
      const started = await pool.query<{ id: string }>(
        `INSERT INTO ${s}.scale_attempts (run_id, step_id, worker, attempt, started_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [request.runId, request.step.id, worker, request.attempt, Date.now()],
      );
      const latency = Number(request.trigger.inputs["latencyMs"] ?? latencyMs);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, latency);
        request.signal.addEventListener("abort", () => (clearTimeout(timer), reject(request.signal.reason)), { once: true });
      });
      request.onProgress({ tokens: 10, tail: `${request.step.id} working` });
      await pool.query(`INSERT INTO ${s}.scale_effects (run_id, step_id, worker) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
        request.runId,
        request.step.id,
        worker,
      ]);
      if (request.step.id === FINAL_STEP) {
        const mine = `${worker}:${started.rows[0]?.id}`;
        const winner = await store.putMarkerIfAbsent(`pr:${request.runId}`, mine);
        if (winner === mine) {
          try {
            await pool.query(`INSERT INTO ${s}.scale_prs (run_id, worker) VALUES ($1, $2)`, [request.runId, worker]);
          } catch (error) {
            throw new NonRetriableError("a second pull request for one run", { cause: error });
          }
        }
      }
      await pool.query(`UPDATE ${s}.scale_attempts SET finished_ms = $2 WHERE id = $1`, [started.rows[0]?.id, Date.now()]);
      const output: StepOutput = { text: `${request.step.id} done by ${worker}`, usage: { inputTokens: 1, outputTokens: 1, cachedTokens: 0 }, costUsd: 0 };
      return output;
    },
  };
}
