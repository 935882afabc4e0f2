/**
 * Puts realistic runs into a RunStore through its public port, as the engine would leave them.
 */
import type { RunStore } from "../../src/workflows/ports.ts";
import { asRunId, asStepId, type RunEvent, type RunRecord, type RunStatus, type StepId, type StepOutput, type StepRecord } from "../../src/workflows/types.ts";

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
  if (o.status === "waiting") {
    // parked at an approval gate before the review
    const message = "waiting for approval by a user with maintain permission (the Approve button, or `/octoflow approve`)";
    const since = started + split;
    await store.updateStep(runId, rev, { status: "waiting", attempts: 0, waiting: { reason: "approval", key: "approval:review", message, since } });
    await store.appendEvent({ type: "step.waiting", runId, stepId: rev, reason: "approval", message, at: since });
    await store.updateRun(runId, { status: "waiting", waiting: { since, keys: ["approval:review"], messages: [`review: ${message}`] } });
    await store.appendEvent({ type: "run.waiting", runId, at: since, keys: ["approval:review"], messages: [`review: ${message}`] });
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

export interface FeatureRunOptions {
  id: string;
  createdAt: number;
  owner?: string;
  name?: string;
  number?: number;
}

const MINI = "openai:gpt-4.1-mini";
const SONNET = "anthropic:claude-sonnet-4-5";

/**
 * A finished `feature-development` run as the engine leaves it: analyse → implement (retried once
 * after a rate limit) → review, tests and docs in parallel → finalise. The tests step fails after two
 * attempts, so finalise is skipped and the run fails; the implement step's pull request, the check
 * run and the sticky comment exist. Usage and cost on every succeeded step, progress events on all.
 */
export async function seedFeatureRun(store: RunStore, o: FeatureRunOptions): Promise<RunRecord> {
  const runId = asRunId(o.id);
  const [analyse, generate, review, tests, docs, finalise] = ["analyse", "generate", "review", "tests", "docs", "finalise"].map(asStepId) as [StepId, StepId, StepId, StepId, StepId, StepId];
  const owner = o.owner ?? "acme";
  const name = o.name ?? "widgets";
  const number = o.number ?? 42;
  const planned = (id: StepId, stepName: string, role: string, needs: StepId[], output: "pull_request" | "review" | "none") =>
    ({ id, name: stepName, role, prompt: "p", needs, retries: 1, timeoutMs: 1_200_000, output }) as const;
  const run: RunRecord = {
    id: runId,
    workflow: "feature-development",
    status: "queued",
    plan: {
      workflow: "feature-development",
      description: "Analyse the request, implement it, then review, test and document it in parallel, and finalise the pull request.",
      inputs: { scope: "", docs: "true" },
      concurrency: { group: `${owner}/${name}#${number}:feature-development`, cancelInProgress: false },
      customRoles: {},
      steps: [
        planned(analyse, "Analyse the request", "analyst", [], "none"),
        planned(generate, "Implement the change", "generate", [analyse], "pull_request"),
        planned(review, "Review the change", "review", [generate], "review"),
        planned(tests, "Write tests", "test", [generate], "pull_request"),
        planned(docs, "Update the documentation", "docs", [generate], "pull_request"),
        planned(finalise, "Finalise the pull request", "generate", [review, tests, docs], "pull_request"),
      ],
    },
    trigger: {
      kind: "label",
      repo: { owner, name, defaultBranch: "main" },
      number,
      isPullRequest: false,
      actor: "mona",
      inputs: {},
      issue: { title: "Add rate limiting to the widgets API", body: "Limit each API key to 100 requests per minute." },
    },
    concurrencyKey: `${owner}/${name}#${number}:feature-development`,
    createdAt: o.createdAt,
  };
  const ids = [analyse, generate, review, tests, docs, finalise];
  await store.createRun(run, ids.map((stepId): StepRecord => ({ runId, stepId, status: "pending", attempts: 0 })));

  const t = (seconds: number) => o.createdAt + seconds * 1000;
  const usage = (input: number, output: number, cached: number) => ({ inputTokens: input, outputTokens: output, cachedTokens: cached });
  const out = (text: string, u: ReturnType<typeof usage>, costUsd: number, model: string): StepOutput => ({ text, usage: u, costUsd, model });
  const events: RunEvent[] = [];
  const attempt = (stepId: StepId, n: number, from: number, to: number, tokens: number) => {
    events.push({ type: "step.started", runId, stepId, attempt: n, at: t(from) });
    for (let s = from + 10; s < to; s += 15) events.push({ type: "step.progress", runId, stepId, at: t(s), tokens: Math.round((tokens * (s - from)) / (to - from)), tail: "…" });
  };
  const finish = async (stepId: StepId, attempts: number, from: number, to: number, result: { output: StepOutput } | { error: string }) => {
    const status = "output" in result ? "succeeded" : "failed";
    events.push({ type: "step.finished", runId, stepId, status, attempts, durationMs: (to - from) * 1000, ...result, at: t(to) });
    await store.updateStep(runId, stepId, { status, attempts, startedAt: t(from), finishedAt: t(to), ...result });
  };

  await store.updateRun(runId, { status: "running", startedAt: t(1.2), checkRunId: 31_415_926, commentId: 2_718_281_828 });
  events.push({ type: "run.started", runId, at: t(1.2) });
  attempt(analyse, 1, 1.5, 24, 5100);
  await finish(analyse, 1, 1.5, 24, { output: out("Plan: add a token bucket per API key in src/middleware/rate-limit.ts …", usage(4210, 890, 1200), 0.0031, MINI) });
  attempt(generate, 1, 24.5, 58, 9000);
  events.push({ type: "step.retrying", runId, stepId: generate, attempt: 1, delayMs: 8000, error: "anthropic answered 429 Too Many Requests (rate limited; retry after 8 s)", at: t(58) });
  attempt(generate, 2, 66, 161, 44520);
  await finish(generate, 2, 24.5, 161, { output: out("Added a per-key token bucket middleware, wired it into the widgets router, and documented the 429 response.", usage(38400, 6120, 21000), 0.2070, SONNET) });
  attempt(review, 1, 162, 210, 13240);
  await finish(review, 1, 162, 210, { output: out("3 findings: 1 major (the bucket map never evicts idle keys), 2 minor.", usage(11800, 1440, 8000), 0.0570, SONNET) });
  attempt(docs, 1, 162, 192, 6900);
  await finish(docs, 1, 162, 192, { output: out("Documented the limit and the Retry-After header in docs/api.md.", usage(6100, 800, 3000), 0.0042, MINI) });
  attempt(tests, 1, 162, 235, 15800);
  events.push({ type: "step.retrying", runId, stepId: tests, attempt: 1, delayMs: 5000, error: "the model's edit does not apply: test/rate-limit.test.ts — the search block was not found", at: t(235) });
  attempt(tests, 2, 240, 288, 14100);
  const testsError = "the model's edits do not apply after 2 attempts: test/rate-limit.test.ts — the search block\n  describe(\"rate limit\", () => {\nwas not found in the file (it has 0 matches; the workspace's version was written by the implement step)";
  await finish(tests, 2, 162, 288, { error: testsError });
  events.push({ type: "step.finished", runId, stepId: finalise, status: "skipped", attempts: 0, durationMs: 0, error: "condition is false: steps.review.status == 'succeeded' && steps.tests.status == 'succeeded'", at: t(288.2) });
  await store.updateStep(runId, finalise, { status: "skipped", finishedAt: t(288.2), error: "condition is false: steps.review.status == 'succeeded' && steps.tests.status == 'succeeded'" });
  const error = "Step \"Write tests\" failed: the model's edits do not apply after 2 attempts";
  await store.updateRun(runId, { status: "failed", finishedAt: t(289), error, pullRequestNumber: 57 });
  events.push({
    type: "run.finished",
    runId,
    status: "failed",
    at: t(289),
    error,
    summary: {
      steps: 6,
      succeeded: 4,
      failed: 1,
      skipped: 1,
      cancelled: 0,
      successRate: 0.8,
      durationMs: 287_800,
      criticalPath: [analyse, generate, tests],
      criticalPathMs: 286_500,
      usage: usage(60510, 9250, 33200),
      costUsd: 0.2713,
    },
  });
  events.sort((a, b) => a.at - b.at);
  for (const e of events) await store.appendEvent(e);
  return run;
}
