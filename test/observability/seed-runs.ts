/**
 * Puts realistic runs into a RunStore through its public port, as the engine would leave them.
 */
import type { RunStore } from "../../src/workflows/ports.ts";
import { asRunId, asStepId, type RunRecord, type RunStatus, type StepRecord } from "../../src/workflows/types.ts";

export interface SeedOptions {
  id: string;
  owner?: string;
  name?: string;
  workflow?: string;
  status: RunStatus;
  createdAt: number;
  durationMs?: number;
  number?: number;
  isPullRequest?: boolean;
  checkRunId?: number;
  pullRequestNumber?: number;
  error?: string;
  /** Failure text of the "review" step. */
  stepError?: string;
}

/** Creates a run with two steps (generate → review) and its events. Returns the run. */
export async function seedRun(store: RunStore, o: SeedOptions): Promise<RunRecord> {
  const runId = asRunId(o.id);
  const gen = asStepId("generate");
  const rev = asStepId("review");
  const started = o.createdAt + 500;
  const finished = o.durationMs === undefined ? undefined : started + o.durationMs;
  const run: RunRecord = {
    id: runId,
    workflow: o.workflow ?? "feature-development",
    status: "queued",
    plan: {
      workflow: o.workflow ?? "feature-development",
      description: "Generate a change and review it",
      inputs: {},
      concurrency: { group: "g", cancelInProgress: false },
      customRoles: {},
      steps: [
        { id: gen, name: "Generate change", role: "generate", prompt: "p", needs: [], retries: 1, timeoutMs: 60_000, output: "pull_request" },
        { id: rev, name: "Review change", role: "review", prompt: "p", needs: [gen], retries: 1, timeoutMs: 60_000, output: "review" },
      ],
    },
    trigger: {
      kind: "label",
      repo: { owner: o.owner ?? "acme", name: o.name ?? "widgets", defaultBranch: "main" },
      number: o.number ?? 42,
      isPullRequest: o.isPullRequest ?? false,
      actor: "octocat",
      inputs: {},
    },
    concurrencyKey: `${o.owner ?? "acme"}/${o.name ?? "widgets"}#${o.number ?? 42}:feature-development`,
    createdAt: o.createdAt,
  };
  const steps: StepRecord[] = [
    { runId, stepId: gen, status: "pending", attempts: 0 },
    { runId, stepId: rev, status: "pending", attempts: 0 },
  ];
  await store.createRun(run, steps);
  if (o.status === "queued") return run;

  const split = o.durationMs === undefined ? 1000 : Math.round(o.durationMs * 0.7);
  await store.updateRun(runId, { status: "running", startedAt: started, ...(o.checkRunId === undefined ? {} : { checkRunId: o.checkRunId }) });
  await store.appendEvent({ type: "run.started", runId, at: started });
  await store.appendEvent({ type: "step.started", runId, stepId: gen, attempt: 1, at: started });
  const genOutput = {
    text: "Added the widget endpoint and tests.",
    usage: { inputTokens: 1200, outputTokens: 800, cachedTokens: 100 },
    costUsd: 0.0123,
    model: "openai:gpt-4.1-mini",
  };
  await store.updateStep(runId, gen, { status: "succeeded", attempts: 1, startedAt: started, finishedAt: started + split, output: genOutput });
  await store.appendEvent({
    type: "step.finished",
    runId,
    stepId: gen,
    status: "succeeded",
    attempts: 1,
    durationMs: split,
    output: genOutput,
    at: started + split,
  });
  if (o.status === "running") {
    await store.updateStep(runId, rev, { status: "running", attempts: 1, startedAt: started + split });
    return run;
  }
  const reviewFailed = o.status === "failed";
  const revOutput = { text: "Two findings.", usage: { inputTokens: 600, outputTokens: 200, cachedTokens: 0 }, costUsd: 0.004 };
  await store.updateStep(runId, rev, {
    status: reviewFailed ? "failed" : o.status === "cancelled" ? "cancelled" : "succeeded",
    attempts: reviewFailed ? 2 : 1,
    startedAt: started + split,
    finishedAt: finished ?? started + split + 1,
    ...(reviewFailed ? { error: o.stepError ?? "model timed out" } : { output: revOutput }),
  });
  await store.updateRun(runId, {
    status: o.status,
    ...(finished === undefined ? {} : { finishedAt: finished }),
    ...(o.error === undefined ? {} : { error: o.error }),
    ...(o.pullRequestNumber === undefined ? {} : { pullRequestNumber: o.pullRequestNumber }),
  });
  await store.appendEvent({
    type: "run.finished",
    runId,
    status: o.status,
    at: finished ?? started + split + 1,
    ...(o.error === undefined ? {} : { error: o.error }),
    summary: {
      steps: 2,
      succeeded: reviewFailed ? 1 : 2,
      failed: reviewFailed ? 1 : 0,
      skipped: 0,
      cancelled: 0,
      successRate: reviewFailed ? 0.5 : 1,
      durationMs: o.durationMs ?? 0,
      criticalPath: [gen, rev],
      criticalPathMs: o.durationMs ?? 0,
      usage: { inputTokens: 1800, outputTokens: 1000, cachedTokens: 100 },
      costUsd: 0.0163,
    },
  });
  return run;
}
