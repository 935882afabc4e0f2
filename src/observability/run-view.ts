/**
 * JSON views of runs for the dashboard API: what an operator needs to see (repository, workflow,
 * trigger, status, duration, tokens, cost, links to GitHub), without prompts or full outputs.
 */
import { sumUsage } from "../workflows/summarize-run.ts";
import type { RunEvent, RunRecord, StepRecord } from "../workflows/types.ts";
import { scrubSecrets } from "./logger.ts";

const MAX_TEXT = 4000;
const MAX_TAIL = 500;

export interface RunLinks {
  /** The issue or pull request the run belongs to. */
  issue: string;
  checkRun?: string;
  /** The run's sticky comment. */
  comment?: string;
  pullRequest?: string;
}

export interface RunView {
  id: string;
  repository: string;
  workflow: string;
  trigger: { kind: string; actor: string; number: number; isPullRequest: boolean };
  status: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  tokens: { input: number; output: number; cached: number; total: number };
  costUsd: number;
  steps: { total: number; succeeded: number; failed: number; running: number };
  error?: string;
  /** While the run is parked: what it waits for, one line per waiting step. */
  waiting?: string[];
  links: RunLinks;
}

export interface StepView {
  id: string;
  name: string;
  role: string;
  needs: string[];
  status: string;
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  tokens: number;
  costUsd: number;
  model?: string;
  error?: string;
  /** The step's summary text, truncated. */
  text?: string;
  /** What a waiting step waits for, or who approved its gate and when. */
  note?: string;
}

/** The web base URL of GitHub: `https://github.com`, or the GitHub Enterprise Server host. */
export function githubWebUrl(env: { GHE_HOST?: string | undefined; GHE_PROTOCOL?: string | undefined }): string {
  return env.GHE_HOST ? `${env.GHE_PROTOCOL ?? "https"}://${env.GHE_HOST}` : "https://github.com";
}

/** Links to the run's issue / PR, check run, sticky comment and produced pull request. */
export function runLinks(run: RunRecord, githubUrl: string): RunLinks {
  const { owner, name } = run.trigger.repo;
  const repo = `${githubUrl.replace(/\/+$/, "")}/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
  const number = Math.trunc(run.trigger.number);
  const thread = `${repo}/${run.trigger.isPullRequest ? "pull" : "issues"}/${number}`;
  return {
    issue: thread,
    ...(run.checkRunId === undefined ? {} : { checkRun: `${repo}/runs/${Math.trunc(run.checkRunId)}` }),
    ...(run.commentId === undefined ? {} : { comment: `${thread}#issuecomment-${Math.trunc(run.commentId)}` }),
    ...(run.pullRequestNumber === undefined ? {} : { pullRequest: `${repo}/pull/${Math.trunc(run.pullRequestNumber)}` }),
  };
}

/**
 * @example
 * const view = toRunView(run, await store.getSteps(run.id), "https://github.com", Date.now());
 */
export function toRunView(run: RunRecord, steps: readonly StepRecord[], githubUrl: string, now: number): RunView {
  const { usage, costUsd } = sumUsage(steps);
  const start = run.startedAt ?? run.createdAt;
  const end = run.finishedAt ?? (run.status === "running" ? now : undefined);
  return {
    id: run.id,
    repository: `${run.trigger.repo.owner}/${run.trigger.repo.name}`,
    workflow: run.workflow,
    trigger: { kind: run.trigger.kind, actor: run.trigger.actor, number: run.trigger.number, isPullRequest: run.trigger.isPullRequest },
    status: run.status,
    createdAt: iso(run.createdAt),
    ...(run.startedAt === undefined ? {} : { startedAt: iso(run.startedAt) }),
    ...(run.finishedAt === undefined ? {} : { finishedAt: iso(run.finishedAt) }),
    ...(end === undefined ? {} : { durationMs: Math.max(0, end - start) }),
    tokens: {
      input: usage.inputTokens,
      output: usage.outputTokens,
      cached: usage.cachedTokens,
      total: usage.inputTokens + usage.outputTokens,
    },
    costUsd: round(costUsd),
    steps: {
      total: steps.length,
      succeeded: steps.filter((s) => s.status === "succeeded").length,
      failed: steps.filter((s) => s.status === "failed").length,
      running: steps.filter((s) => s.status === "running").length,
    },
    ...(run.error === undefined ? {} : { error: truncate(run.error, MAX_TEXT) }),
    ...(run.status === "waiting" && run.waiting ? { waiting: run.waiting.messages.map((m) => truncate(m, MAX_TAIL)) } : {}),
    links: runLinks(run, githubUrl),
  };
}

/** Steps in plan order with their name, role and dependencies from the plan. */
export function toStepViews(run: RunRecord, steps: readonly StepRecord[], now: number): StepView[] {
  const order = new Map(run.plan.steps.map((s, i) => [s.id as string, i]));
  const planned = new Map(run.plan.steps.map((s) => [s.id as string, s]));
  return [...steps]
    .sort((a, b) => (order.get(a.stepId) ?? 1e9) - (order.get(b.stepId) ?? 1e9))
    .map((step) => {
      const plan = planned.get(step.stepId);
      const end = step.finishedAt ?? (step.status === "running" ? now : undefined);
      return {
        id: step.stepId,
        name: plan?.name ?? step.stepId,
        role: plan?.role ?? "",
        needs: plan?.needs.map(String) ?? [],
        status: step.status,
        attempts: step.attempts,
        ...(step.startedAt === undefined ? {} : { startedAt: iso(step.startedAt) }),
        ...(step.finishedAt === undefined ? {} : { finishedAt: iso(step.finishedAt) }),
        ...(step.startedAt === undefined || end === undefined ? {} : { durationMs: Math.max(0, end - step.startedAt) }),
        tokens: step.output ? step.output.usage.inputTokens + step.output.usage.outputTokens : 0,
        costUsd: round(step.output?.costUsd ?? 0),
        ...(step.output?.model === undefined ? {} : { model: step.output.model }),
        ...(step.error === undefined ? {} : { error: truncate(step.error, MAX_TEXT) }),
        ...(step.output?.text ? { text: truncate(step.output.text, MAX_TEXT) } : {}),
        ...(stepNote(step) === undefined ? {} : { note: stepNote(step) as string }),
      };
    });
}

/** Events without bulky payloads: step outputs become token and cost totals, tails are bounded. */
export function toEventView(event: RunEvent): Record<string, unknown> {
  const { at, ...rest } = event;
  const base: Record<string, unknown> = { ...rest, at: iso(at) };
  if (event.type === "step.finished" && event.output) {
    delete base.output;
    base.tokens = event.output.usage.inputTokens + event.output.usage.outputTokens;
    base.costUsd = round(event.output.costUsd);
  }
  if (event.type === "step.progress") base.tail = truncate(event.tail, MAX_TAIL);
  if (event.type === "run.finished") {
    base.summary = { ...event.summary, costUsd: round(event.summary.costUsd) };
  }
  if ("error" in event && typeof event.error === "string") base.error = truncate(event.error, MAX_TEXT);
  return base;
}

/** What a waiting step waits for, or who approved its gate and when. */
function stepNote(step: StepRecord): string | undefined {
  if (step.approval) return `approved by ${step.approval.by} at ${iso(step.approval.at)}`;
  if (step.status === "waiting" && step.waiting) return truncate(step.waiting.message, MAX_TAIL);
  return undefined;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** Bounds free text and removes anything shaped like a secret (errors may quote URLs or headers). */
export function truncate(text: string, max: number): string {
  const clean = scrubSecrets(text);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
