/**
 * GitHub writes for one 7-step run (a → b, c, d in parallel → e → f → g) whose steps each stream
 * N chunks over 5 simulated seconds, through the real engine and the real GitHub progress sink
 * (check run + sticky comment, coalesced) against the fake GitHub. Time is simulated (a manual
 * clock), so the figures are exact and the same on any machine.
 *
 * Target: ≤ 25 writes in total, and the same count at 500 and at 5,000 chunks per step.
 *
 *   node bench/github-writes.ts
 */
import { pino } from "pino";
import { ProbotOctokit } from "probot";
import type { GitHubClient } from "../src/github/client.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { createGitHubProgressSink } from "../src/github/progress/github-progress-sink.ts";
import { createMemoryRunStore } from "../src/store/memory-run-store.ts";
import { composeSinks } from "../src/workflows/compose-sinks.ts";
import { createEngine } from "../src/workflows/engine.ts";
import type { AgentRunner } from "../src/workflows/ports.ts";
import { asStepId, type PlannedStep, type RunPlan, type Trigger } from "../src/workflows/types.ts";
import { installRepoModel } from "../test/fakes/github-repo-model.ts";
import { startGitHubFake } from "../test/fakes/github-server.ts";
import { createFakeClock } from "../test/fakes/fake-clock.ts";

const STEP_MS = 5_000;
const SLICES = 100;
const log = pino({ level: "silent" });

function plan(): RunPlan {
  const step = (id: string, needs: string[]): PlannedStep => ({ id: asStepId(id), name: id, role: "generate", prompt: "p", needs: needs.map(asStepId), retries: 0, timeoutMs: 3_600_000, output: "none" });
  const steps = [step("a", []), step("b", ["a"]), step("c", ["a"]), step("d", ["a"]), step("e", ["b", "c", "d"]), step("f", ["e"]), step("g", ["f"])];
  return { workflow: "bench", description: "", steps, inputs: {}, concurrency: { group: "bench", cancelInProgress: false }, customRoles: {} };
}

async function measure(chunks: number): Promise<{ checkRun: number; comment: number; totalWriteRequests: number; progressEvents: number; simulatedSeconds: number }> {
  const gh = await startGitHubFake();
  installRepoModel(gh, { owner: "octo", repo: "app", files: { "a.txt": "a" } });
  const clock = createFakeClock({ mode: "manual", start: 0 });
  const store = createMemoryRunStore();
  const metrics = createMetrics({ defaults: false });
  const octokit = new ProbotOctokit({ auth: { token: "ghs_bench" }, baseUrl: gh.url, throttle: { enabled: false }, retry: { enabled: false }, log }) as GitHubClient;
  const sink = createGitHubProgressSink({ clients: { forInstallation: async () => octokit }, store, clock, log, metrics });
  let progressEvents = 0;
  const agents: AgentRunner = {
    async run(req) {
      const text: string[] = [];
      for (let slice = 0; slice < SLICES; slice++) {
        for (let i = 0; i < chunks / SLICES; i++) {
          text.push("tok ");
          progressEvents++;
          req.onProgress({ tokens: text.length, tail: text.slice(-50).join("") });
        }
        await clock.sleep(STEP_MS / SLICES, req.signal);
      }
      return { text: `step ${req.step.id} done`, usage: { inputTokens: 1000, outputTokens: chunks, cachedTokens: 0 }, costUsd: 0.001 };
    },
  };
  const engine = createEngine({ store, agents, progress: composeSinks([sink], log), clock, log, metrics, stepConcurrency: 4, cancelPollMs: 60_000 });
  const trigger: Trigger = { kind: "label", repo: { owner: "octo", name: "app", defaultBranch: "main", installationId: 1 }, number: 1, isPullRequest: false, actor: "alice", inputs: {}, issue: { title: "Bench", body: "" } };
  const run = await engine.start(plan(), trigger);
  let done = false;
  const execution = engine.execute(run.id, new AbortController().signal).finally(() => (done = true));
  while (!done) await clock.advance(10);
  await execution;
  await sink.idle();
  const status = (await store.getRun(run.id))?.status;
  if (status !== "succeeded") throw new Error(`bench run ended ${status}`);
  const values = (await metrics.githubWrites.get()).values;
  const count = (surface: string) => values.find((v) => v.labels.surface === surface)?.value ?? 0;
  const totalWriteRequests = gh.requests.filter((r) => r.method !== "GET").length;
  await gh.close();
  await store.close();
  return { checkRun: count("check_run"), comment: count("comment"), totalWriteRequests, progressEvents, simulatedSeconds: clock.now() / 1000 };
}

async function main() {
  const small = await measure(500);
  const large = await measure(5_000);
  const rows = [
    ["chunks per step", "progress events", "check-run writes", "comment writes", "all GitHub write requests", "simulated run time"],
    ["500", String(small.progressEvents), String(small.checkRun), String(small.comment), String(small.totalWriteRequests), `${small.simulatedSeconds.toFixed(0)} s`],
    ["5,000", String(large.progressEvents), String(large.checkRun), String(large.comment), String(large.totalWriteRequests), `${large.simulatedSeconds.toFixed(0)} s`],
  ];
  console.log("GitHub writes for one 7-step run (coalescing interval 5 s per surface)\n");
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
  console.log(`\nwrites at 500 chunks: ${small.totalWriteRequests} (target ≤ 25) ${small.totalWriteRequests <= 25 ? "OK" : "MISSED"}`);
  console.log(`writes(5,000) / writes(500) = ${(large.totalWriteRequests / small.totalWriteRequests).toFixed(2)} (target 1.00) ${large.totalWriteRequests === small.totalWriteRequests ? "OK" : "MISSED"}`);
}

await main();
