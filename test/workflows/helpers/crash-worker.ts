/**
 * A worker process for the kill -9 test: runs one workflow on a SQLite file with a short lease;
 * step "a" succeeds, step "b" never finishes. It prints "ready <runId>" once "b" started.
 *
 *   node test/workflows/helpers/crash-worker.ts <db path>
 */
import { createEmbeddedQueue } from "../../../src/queue/embedded-queue.ts";
import { createSqliteRunStore } from "../../../src/store/sqlite-run-store.ts";
import { workflow } from "../../../src/workflows/builder.ts";
import { createEngine } from "../../../src/workflows/engine.ts";
import { planRun } from "../../../src/workflows/plan.ts";
import { issueTrigger } from "../fakes/triggers.ts";

const path = process.argv[2];
if (!path) throw new Error("usage: crash-worker.ts <db path>");
const store = createSqliteRunStore({ path });
const queue = createEmbeddedQueue({ store, leaseMs: 300, pollMs: 10 });
let runId = "";
const engine = createEngine({
  store,
  queue,
  agents: {
    async run(request) {
      if (request.step.id === "b") {
        process.stdout.write(`ready ${runId}\n`);
        return new Promise(() => {});
      }
      return { text: `${request.step.id} by the first worker`, usage: { inputTokens: 1, outputTokens: 1, cachedTokens: 0 }, costUsd: 0 };
    },
  },
});
const crashTemplate = () =>
  workflow("crash")
    .step({ id: "a", role: "generate", prompt: "a" })
    .step({ id: "b", role: "review", prompt: "b {{ steps.a.output }}" }).needs("a")
    .step({ id: "c", role: "docs", prompt: "c {{ steps.b.output }}" }).needs("b")
    .build();
await queue.start(engine.execute);
runId = (await engine.start(planRun(crashTemplate(), issueTrigger()), issueTrigger())).id;
