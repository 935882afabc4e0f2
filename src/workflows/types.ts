/**
 * Core domain types shared by every part of Octoflow: triggers, plans, runs, steps, events.
 * The engine, the stores, the agents and the GitHub edge all speak these types.
 */

import type { OUTPUT_KINDS } from "../config/output-kinds.ts";

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type RunId = Brand<string, "RunId">;
export type StepId = Brand<string, "StepId">;

export const asRunId = (s: string): RunId => s as RunId;
export const asStepId = (s: string): StepId => s as StepId;

/** Built-in roles; a template or repo config may declare further custom roles. */
export const BUILTIN_ROLES = ["generate", "review", "test", "docs"] as const;
export type BuiltinRole = (typeof BUILTIN_ROLES)[number];

export type OutputKind = (typeof OUTPUT_KINDS)[number];

export interface RepoRef {
  owner: string;
  name: string;
  /** Default branch; config and templates are read from here only. */
  defaultBranch: string;
  installationId?: number;
}

/** The event that started a run, already parsed at the edge. */
export interface Trigger {
  kind: "label" | "command" | "pull_request" | "check_run" | "review_comment" | "ci_failure" | "cli" | "manual";
  repo: RepoRef;
  /** Issue or pull-request number the run belongs to. */
  number: number;
  isPullRequest: boolean;
  /** Login of the user who caused the trigger. */
  actor: string;
  deliveryId?: string;
  /** key=value inputs given on the command line or by the template defaults. */
  inputs: Record<string, string>;
  issue?: { title: string; body: string; url?: string };
  pullRequest?: {
    headSha: string;
    baseSha: string;
    headRef: string;
    baseRef: string;
    fromFork: boolean;
    draft: boolean;
    /** SHA reviewed by the previous review run, when only new commits are to be reviewed. */
    sinceSha?: string;
  };
  commentId?: number;
  /**
   * A request to change Octoflow's own pull request (kinds `review_comment` and `ci_failure`): what was
   * asked, where, and where the answer goes. Every text in it is user- or CI-written (fenced in prompts).
   */
  review?: {
    /** The text after `/octoflow fix` (may be empty), or a one-line account of the CI failure. */
    request: string;
    /** The review comment's file and line (absent for a review body and CI). */
    path?: string;
    line?: number;
    /** The diff hunk the comment sits on. */
    diffHunk?: string;
    /** The thread so far, oldest first (the request's own comment last). */
    thread?: { author: string; body: string }[];
    /** The failing checks (CI failures only). */
    checks?: { name: string; conclusion: string; summary: string }[];
    /** Where the answer goes: the top comment of the review thread, or a comment on the pull request. */
    replyTo: { kind: "thread"; commentId: number } | { kind: "pull_request" } | { kind: "none" };
  };
}

/** A custom role declared in a template or the repo config. */
export interface CustomRole {
  name: string;
  systemPrompt: string;
  output: OutputKind;
  /** Shape of the role's structured result: free text, file edits, or review findings. */
  result: "text" | "edits" | "findings";
}

/** One step of a run plan (a template step with defaults applied). */
export interface PlannedStep {
  id: StepId;
  name: string;
  role: string;
  /** The prompt template (rendered just before the step runs, with upstream outputs available). */
  prompt: string;
  needs: StepId[];
  /** Condition evaluated when the step becomes ready; false → skipped. */
  if?: string;
  retries: number;
  timeoutMs: number;
  /** `<provider>:<model>` override. */
  model?: string;
  output: OutputKind;
  /** Limits of the step's tool loop from the template (`tools:`); the runner's defaults fill the rest. */
  toolLimits?: { maxRounds?: number | undefined; maxResultBytes?: number | undefined; maxTokens?: number | undefined };
  /**
   * A step that runs no agent but checks the run's change (DESIGN D14, D15): `ci` waits for the
   * repository's own checks on the pushed head (the App); `command` runs a configured command in a
   * checkout (the CLI and the Action only). Both are done by the engine's `StepGates`.
   */
  uses?: StepUse;
  /** An approval gate: the run parks before this step until a user with at least this permission approves it. */
  approval?: { permission: ApprovalPermission };
  /** Set on the rows of an unrolled `loop:` (verify, then fix, up to `max` times). */
  loop?: LoopRow;
}

export type ApprovalPermission = "write" | "maintain" | "admin";

export type StepUse =
  /** Wait for other apps' check suites / check runs and commit statuses on the head the run pushed. */
  | { kind: "ci"; /** End neutral ("no CI reported") when nothing appears within this long. */ noChecksAfterMs: number }
  /** Run `commands.<command>` of `.github/octoflow.yml` in a checkout of the run's workspace. */
  | { kind: "command"; command: string };

/**
 * One row of a bounded fix loop, unrolled by the planner into `verify-1, fix-1, verify-2, …` (the DAG
 * stays acyclic). A failed verify row that a fix row follows does not fail the run: the fix row handles
 * it; the last verify row's failure does.
 */
export interface LoopRow {
  /** The template's loop id. */
  id: string;
  /** 1-based. */
  iteration: number;
  max: number;
  kind: "verify" | "fix";
}

/** Why a step is parked (status `waiting`) and what wakes it. */
export interface StepWait {
  reason: "ci" | "approval" | "retry";
  /** What an outside event must match to wake the run, e.g. `ci:<sha>` or `approval:<step>`. */
  key: string;
  /** Shown in the check run and the comment, e.g. "waiting for CI on abc1234 (2 of 5 checks done)". */
  message: string;
  /** When the step started waiting (the first time). */
  since: number;
  /** When to look again without an event (a poll); none: only an event wakes it. */
  wakeAt?: number;
  /** Anything the step gate wants back on its next check (e.g. the head SHA it waits on). */
  data?: Record<string, unknown>;
}

/** A template + trigger, resolved into an executable DAG. */
export interface RunPlan {
  workflow: string;
  description: string;
  steps: PlannedStep[];
  inputs: Record<string, string>;
  concurrency: { group: string; cancelInProgress: boolean };
  customRoles: Record<string, CustomRole>;
  /** Per-run limits from the repo config (`limits:`); the engine enforces them. */
  limits?: RunLimits;
  /** The repository's `protectedPaths` (added to the built-in ones): edits there are refused when publishing. */
  protectedPaths?: string[];
}

/** Budgets and parallelism of one run. */
export interface RunLimits {
  /** Stop the run (remaining steps skipped, run failed) once its steps used this many tokens. */
  maxTokensPerRun?: number;
  /** Stop the run once its steps cost this many US dollars. */
  maxCostUsdPerRun?: number;
  /** Steps of this run executing at the same time (overrides the engine's default). */
  stepConcurrency?: number;
}

/** `waiting`: parked (DESIGN D14) — no worker, no timer; an event or a scheduled poll resumes it. */
export type RunStatus = "queued" | "running" | "waiting" | "succeeded" | "failed" | "cancelled";
export type StepStatus = "pending" | "running" | "waiting" | "succeeded" | "failed" | "skipped" | "cancelled";

export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ["succeeded", "failed", "cancelled"];
/** Runs that hold their concurrency group. */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ["queued", "running", "waiting"];
export const TERMINAL_STEP_STATUSES: readonly StepStatus[] = ["succeeded", "failed", "skipped", "cancelled"];

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
}

export const ZERO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0, cachedTokens: 0 });

/** A file change produced by a generate / test / docs step. */
export type FileEdit =
  | { kind: "create"; path: string; content: string }
  | { kind: "modify"; path: string; blocks: { search: string; replace: string }[] }
  | { kind: "delete"; path: string };

/**
 * One file as a step's workspace layer leaves it: its full new content, or `null` when the step deleted
 * it (DESIGN D11). Paths are normalised repository paths.
 */
export interface FileChange {
  path: string;
  content: string | null;
}

/** A review finding produced by a review step. */
export interface Finding {
  path: string;
  line: number;
  startLine?: number;
  side: "LEFT" | "RIGHT";
  severity: "info" | "minor" | "major" | "critical";
  body: string;
  suggestion?: string;
}

/** The result of one step, as persisted and passed downstream. */
export interface StepOutput {
  /** Human-readable summary / free text answer. */
  text: string;
  edits?: FileEdit[];
  /**
   * The step's workspace layer (`WorkspaceView.changes()`), sorted by path: what downstream views and
   * publishing use. When absent, the layer is derived from `edits` applied to the step's view.
   */
  changes?: FileChange[];
  findings?: Finding[];
  /** Anything else a backend wants to surface (e.g. Codegen web URL, PR links). */
  data?: Record<string, unknown>;
  usage: Usage;
  costUsd: number;
  model?: string;
}

export type StepOutcome =
  | { kind: "succeeded"; output: StepOutput }
  /** `output`: a structured result a failed check still has (failing checks, log tail) for a fix step. */
  | { kind: "failed"; error: string; retriable: boolean; output?: StepOutput }
  /** The step waits for an outside event: the run parks once nothing else can run. */
  | { kind: "waiting"; wait: StepWait }
  | { kind: "skipped"; reason: string }
  | { kind: "cancelled"; reason: string }
  /** The worker stopped (shutdown, lost lease) mid-step: nothing is recorded, the step runs again on resume. */
  | { kind: "interrupted" };

export interface StepRecord {
  runId: RunId;
  stepId: StepId;
  status: StepStatus;
  attempts: number;
  startedAt?: number;
  finishedAt?: number;
  output?: StepOutput;
  error?: string;
  /**
   * What every model call of the step cost, all attempts together, failed ones included; absent when
   * that is just the output's own usage (one attempt that succeeded).
   */
  spent?: StepSpend;
  /** Set while the step is `waiting`. */
  waiting?: StepWait;
  /** Who approved the step's approval gate, and when. */
  approval?: { by: string; at: number };
}

/** Tokens and cost of model calls. */
export interface StepSpend {
  usage: Usage;
  costUsd: number;
}

export interface RunRecord {
  id: RunId;
  workflow: string;
  status: RunStatus;
  plan: RunPlan;
  trigger: Trigger;
  /** `owner/name#number:workflow` (or the template's concurrency group) — one active run per key. */
  concurrencyKey: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
  /** W3C trace context carried through the queue. */
  traceContext?: Record<string, string>;
  /** Ids of GitHub surfaces once created (check run, sticky comment, pull request). */
  checkRunId?: number;
  commentId?: number;
  pullRequestNumber?: number;
  /** What the finaliser delivered (DESIGN D10), stored before `run.finished`; progress views render it. */
  outputs?: DeliveredOutputs;
  /** When delivery of the outputs was first attempted: its deadline counts from here, across restarts. */
  deliveryStartedAt?: number;
  /** Set while the run is parked (`waiting`): the keys of its waiting steps and its next poll. */
  waiting?: RunWait;
}

export interface RunWait {
  since: number;
  /** `StepWait.key` of every waiting step (an event matching one wakes the run). */
  keys: string[];
  /** The earliest poll of its waiting steps. */
  wakeAt?: number;
  /** One line per waiting step, for the views. */
  messages: string[];
}

/** The results a finished run delivered to GitHub (or the CLI's target): links and texts for the surfaces. */
export interface DeliveredOutputs {
  pullRequest?: { number: number; url: string };
  review?: { url: string };
  /** Texts of `comment` steps (and findings on an issue, where no review can be posted). */
  results: { step: string; text: string }[];
  /** Problems worth telling the user (edits refused or not applied). */
  notes: string[];
  /** Review findings the run produced (new or repeated). */
  findings: number;
}

/** Typed events the engine emits to a ProgressSink and appends to the store. */
export type RunEvent =
  | { type: "run.started"; runId: RunId; at: number }
  | { type: "step.started"; runId: RunId; stepId: StepId; attempt: number; at: number }
  | {
      type: "step.progress";
      runId: RunId;
      stepId: StepId;
      at: number;
      /** Tokens produced so far in this attempt. */
      tokens: number;
      /** The last part of the streamed text (bounded). */
      tail: string;
      message?: string;
    }
  | {
      type: "step.retrying";
      runId: RunId;
      stepId: StepId;
      attempt: number;
      delayMs: number;
      error: string;
      at: number;
    }
  | {
      type: "step.finished";
      runId: RunId;
      stepId: StepId;
      status: StepStatus;
      attempts: number;
      durationMs: number;
      output?: StepOutput;
      error?: string;
      at: number;
    }
  /** A step parked: it waits for CI, an approval, … */
  | { type: "step.waiting"; runId: RunId; stepId: StepId; reason: StepWait["reason"]; message: string; at: number }
  /** The run parked: nothing runs until an event or a poll wakes it. */
  | { type: "run.waiting"; runId: RunId; at: number; keys: string[]; wakeAt?: number; messages: string[] }
  | {
      type: "run.finished";
      runId: RunId;
      status: RunStatus;
      at: number;
      summary: RunSummary;
      error?: string;
    };

/** The last event of a run. */
export type RunFinishedEvent = Extract<RunEvent, { type: "run.finished" }>;

/** Result aggregation over a run. */
export interface RunSummary {
  steps: number;
  succeeded: number;
  failed: number;
  skipped: number;
  cancelled: number;
  successRate: number;
  durationMs: number;
  /** Step ids on the longest (by duration) dependency chain. */
  criticalPath: StepId[];
  criticalPathMs: number;
  usage: Usage;
  costUsd: number;
}
