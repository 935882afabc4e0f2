/**
 * A worker process for the "kill -9 after the last step" test: runs a one-step pull_request workflow
 * on a SQLite file (short lease) against the fake GitHub at <github url>, with the real GitHub
 * RunOutputs and progress sink. The test kills it while the pull request is being opened.
 *
 *   node test/workflows/helpers/crash-delivery-worker.ts <db path> <github url>
 */
import { createGitHubRunOutputs } from "../../../src/github/outputs/github-run-outputs.ts";
import { createGitHubProgressSink } from "../../../src/github/progress/github-progress-sink.ts";
import { createMetrics } from "../../../src/observability/metrics.ts";
import { createEmbeddedQueue } from "../../../src/queue/embedded-queue.ts";
import { createSqliteRunStore } from "../../../src/store/sqlite-run-store.ts";
import { createEngine } from "../../../src/workflows/engine.ts";
import { planRun } from "../../../src/workflows/plan.ts";
import { systemClock } from "../../../src/workflows/ports.ts";
import { silentLog, testOctokit, trigger } from "../../github/support.ts";
import { changeAgent, changeTemplate } from "./change-workflow.ts";

const [path, githubUrl] = process.argv.slice(2);
if (!path || !githubUrl) throw new Error("usage: crash-delivery-worker.ts <db path> <github url>");
const store = createSqliteRunStore({ path });
const queue = createEmbeddedQueue({ store, leaseMs: 300, pollMs: 10 });
const clients = { forInstallation: async () => testOctokit(githubUrl) };
const engine = createEngine({
  store,
  queue,
  agents: changeAgent("first worker"),
  outputs: createGitHubRunOutputs({ clients, store, log: silentLog }),
  progress: createGitHubProgressSink({ clients, store, clock: systemClock, log: silentLog, metrics: createMetrics({ defaults: false }), intervalMs: 50 }),
});
await queue.start(engine.execute);
const t = trigger({ issue: { title: "Change a", body: "a should be 2" } });
const run = await engine.start(planRun(changeTemplate(), t), t);
process.stdout.write(`started ${run.id}\n`);
