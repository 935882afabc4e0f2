/**
 * A worker process for the "kill -9 while parked" test: runs generate → verify (CI) on a SQLite file;
 * CI never reports here, so the run parks. It prints "parked <runId>" and then idles until killed.
 *
 *   node test/workflows/helpers/park-worker.ts <db path>
 */
import { createEmbeddedQueue } from "../../../src/queue/embedded-queue.ts";
import { createSqliteRunStore } from "../../../src/store/sqlite-run-store.ts";
import { workflow } from "../../../src/workflows/builder.ts";
import { createEngine } from "../../../src/workflows/engine.ts";
import { planRun } from "../../../src/workflows/plan.ts";
import { asStepId } from "../../../src/workflows/types.ts";
import { ciStep, fakeCi } from "../fakes/fake-ci.ts";
import { createScriptedAgent } from "../fakes/scripted-agent.ts";
import { issueTrigger } from "../fakes/triggers.ts";

const path = process.argv[2];
if (!path) throw new Error("usage: park-worker.ts <db path>");
const store = createSqliteRunStore({ path });
const queue = createEmbeddedQueue({ store, leaseMs: 300, pollMs: 10 });
const ci = fakeCi();
const engine = createEngine({
  store,
  queue,
  agents: createScriptedAgent({ generate: [{ kind: "succeed", text: "change: by the first worker" }] }),
  outputs: ci.outputs,
  gates: ci.gates,
  progress: {
    emit(event) {
      if (event.type === "run.waiting") process.stdout.write(`parked ${event.runId}\n`);
    },
  },
});
const plan = planRun(workflow("verify").step({ id: "generate", role: "generate", prompt: "implement" }).build(), issueTrigger());
plan.steps.push(ciStep("verify", { needs: [asStepId("generate")] }));
await queue.start(engine.execute);
await engine.start(plan, issueTrigger());
setInterval(() => undefined, 1000);
