/**
 * Parking on PostgreSQL + pg-boss (DESIGN D14): a run parked by one replica holds no job there; its
 * poll is a pg-boss job due later, and a wake-up on another replica (the CI webhook landed there)
 * pulls that job forward and finishes the run — after the first replica has gone away.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createPgBossQueue, type PgBossQueue } from "../../src/queue/pg-boss-queue.ts";
import { createPostgresRunStore, type PostgresRunStore } from "../../src/store/postgres-run-store.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { createEngine, type Engine } from "../../src/workflows/engine.ts";
import { planRun } from "../../src/workflows/plan.ts";
import { asStepId, type RunId, type RunRecord } from "../../src/workflows/types.ts";
import { dropSchemas, SKIP_REASON, TEST_DATABASE_URL, uniqueSchema } from "../helpers/pg-harness.ts";
import { ciStep, fakeCi } from "../workflows/fakes/fake-ci.ts";
import { createScriptedAgent } from "../workflows/fakes/scripted-agent.ts";
import { issueTrigger } from "../workflows/fakes/triggers.ts";

const url = TEST_DATABASE_URL;
const suite = url === undefined ? describe.skip : describe;

async function until(done: () => boolean | Promise<boolean>, what: string, limit = 400): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not reached: ${what}`);
}

suite(`parked runs across replicas${url === undefined ? ` (${SKIP_REASON})` : ""}`, () => {
  const schema = uniqueSchema("park");
  const ciResults = new Map<string, "success" | "failure">();
  type Replica = { store: PostgresRunStore; queue: PgBossQueue; engine: Engine; ci: ReturnType<typeof fakeCi> };
  const replicas: Replica[] = [];

  const replica = async (): Promise<Replica> => {
    const store = await createPostgresRunStore({ connectionString: url as string, schema, max: 4 });
    const queue = await createPgBossQueue({ store, connectionString: url as string, concurrency: 2, superviseIntervalSeconds: 1, max: 4 });
    const ci = fakeCi(ciResults);
    const agents = createScriptedAgent({ generate: [{ kind: "succeed", text: "change: dark mode" }] });
    const engine = createEngine({ store, queue, agents, outputs: ci.outputs, gates: ci.gates, cancelPollMs: 100 });
    await queue.start(engine.execute);
    const made = { store, queue, engine, ci };
    replicas.push(made);
    return made;
  };

  afterAll(async () => {
    if (url === undefined) return;
    for (const r of replicas) {
      await r.queue.stop().catch(() => undefined);
      await r.store.close().catch(() => undefined);
    }
    await dropSchemas(url, schema, `${schema}_boss`);
  });

  it("replica A parks the run and goes away; the CI event reaches replica B, which finishes it", async () => {
    const a = await replica();
    const plan = planRun(workflow("verify").step({ id: "generate", role: "generate", prompt: "implement" }).build(), issueTrigger());
    plan.steps.push(ciStep("verify", { needs: [asStepId("generate")] }));
    const run = await a.engine.start(plan, issueTrigger());
    const status = async (id: RunId) => ((await a.store.getRun(id)) as RunRecord).status;
    await until(async () => (await status(run.id)) === "waiting", "the run parks");
    const parked = (await a.store.getRun(run.id)) as RunRecord;
    expect(parked.waiting?.keys).toEqual(["ci:sha-1"]);
    // its poll is a pg-boss job due later: nothing active, one created job
    const jobsOf = () => a.queue.boss.findJobs<{ runId: string }>(a.queue.queueName, { data: { runId: run.id } });
    await until(async () => (await jobsOf()).every((j) => j.state !== "active"), "the parking worker lets go of its job");
    const jobs = await jobsOf();
    const pending = jobs.filter((j) => j.state === "created");
    expect(pending, JSON.stringify(jobs.map((j) => [j.state, j.startAfter]))).toHaveLength(1);
    expect(new Date(pending[0]?.startAfter as Date).getTime()).toBeGreaterThan(Date.now() + 30_000);
    expect(jobs.some((j) => j.state === "active")).toBe(false);

    await a.queue.stop();
    const b = await replica();
    ciResults.set("sha-1", "success");
    expect(await b.engine.wakeWaiting("acme/widgets", "ci:sha-1")).toEqual([run.id]);
    await until(async () => (await status(run.id)) === "succeeded", "replica B finishes the run");
    const steps = await b.store.getSteps(run.id);
    expect(steps.map((s) => [s.stepId, s.status])).toEqual([
      ["generate", "succeeded"],
      ["verify", "succeeded"],
    ]);
    // the generate step ran once, on A; B only looked at CI again
    expect(b.ci.checks.length).toBeGreaterThanOrEqual(1);
    expect(b.ci.pushes).toEqual([]);
  });

  it("a run parked for an approval has no job at all; approving on another replica runs it", async () => {
    // replica B (still up) and a new one
    const a = replicas[1] as Replica;
    const b = await replica();
    const plan = planRun(workflow("gated").step({ id: "plan", role: "generate", prompt: "plan" }).step({ id: "generate", role: "generate", prompt: "do" }).needs("plan").build(), issueTrigger({ number: 43 }));
    plan.steps[1] = { ...plan.steps[1]!, approval: { permission: "write" } };
    const run = await a.engine.start(plan, issueTrigger({ number: 43 }));
    await until(async () => (await a.store.getRun(run.id))?.status === "waiting", "the run waits for approval");
    const jobsOf = () => a.queue.boss.findJobs<{ runId: string }>(a.queue.queueName, { data: { runId: run.id } });
    await until(async () => (await jobsOf()).every((j) => j.state !== "active"), "the parking worker lets go of its job");
    const jobs = await jobsOf();
    expect(jobs.filter((j) => j.state === "created" || j.state === "active" || j.state === "retry")).toEqual([]);
    expect((await b.engine.approve(run.id, "maintainer-mo")).map((s) => s.stepId)).toEqual(["generate"]);
    await until(async () => (await a.store.getRun(run.id))?.status === "succeeded", "the approved run finishes");
    expect((await a.store.getSteps(run.id)).find((s) => s.stepId === "generate")?.approval?.by).toBe("maintainer-mo");
  });
});
