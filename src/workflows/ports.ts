/**
 * Ports: the only things the engine knows about the outside world.
 * Adapters (SQLite/PostgreSQL store, embedded/pg-boss queue, model providers, GitHub reporters)
 * implement these; tests use working fakes of the same interfaces.
 */
import type {
  DeliveredOutputs,
  PlannedStep,
  RunEvent,
  RunFinishedEvent,
  RunId,
  RunRecord,
  RunStatus,
  StepId,
  StepOutput,
  StepRecord,
  Trigger,
  RunPlan,
  Usage,
} from "./types.ts";

/** Progress reported by an agent while it works (streamed tokens, remote-agent log lines). */
export interface AgentProgress {
  tokens: number;
  tail: string;
  message?: string;
}

export interface AgentRequest {
  runId: RunId;
  step: PlannedStep;
  plan: RunPlan;
  /** The step's prompt, rendered with trigger data and upstream outputs. */
  prompt: string;
  trigger: Trigger;
  /** Outputs of the steps this one depends on (transitively available by id). */
  upstream: Readonly<Record<string, StepOutput>>;
  /** 1-based attempt number. */
  attempt: number;
  signal: AbortSignal;
  onProgress: (progress: AgentProgress) => void;
  /**
   * Told of every model call's usage and cost as soon as it is paid for, also when the attempt fails
   * later: the step's and the run's totals count every call.
   */
  onUsage?: (usage: Usage, costUsd: number) => void;
}

/** Runs one step with a role over a model provider or a remote agent. */
export interface AgentRunner {
  run(request: AgentRequest): Promise<StepOutput>;
}

/**
 * Delivers a run's results — commits and a pull request, a review, comment texts (DESIGN D10). The
 * engine's finaliser calls it after the last step and before `run.finished`, and stores what it returns
 * on the run. It must be idempotent (every side effect guarded by a store marker): after a failed attempt
 * or a crash it is called again and must not deliver twice. Failures carry the retry decision:
 * `RetryAfterError` / `ExternalServiceError { retriable: true }` are retried until the delivery deadline,
 * anything else fails the run with the error's message.
 */
export interface RunOutputs {
  deliver(run: RunRecord, steps: StepRecord[], signal?: AbortSignal): Promise<DeliveredOutputs>;
  /**
   * Optional: pushes the change as it stands so far (the commits of the producing steps that finished;
   * the draft pull request opens with the first), so the repository's CI runs on it while the run goes
   * on. Called after every producing step, one call at a time per run, and by CI gates before they wait.
   * Idempotent like `deliver`; returns the pushed head, or undefined when there is nothing to push.
   */
  push?(run: RunRecord, steps: StepRecord[], signal?: AbortSignal): Promise<PushedHead | undefined>;
}

export interface PushedHead {
  sha: string;
  branch: string;
  pullRequest?: { number: number; url: string };
}

export interface GateRequest {
  run: RunRecord;
  step: PlannedStep;
  /** The step's record: `waiting` holds what the gate stored when it parked the step last time. */
  record: StepRecord;
  /** All step records of the run (what a push commits). */
  steps: StepRecord[];
  upstream: Readonly<Record<string, StepOutput>>;
  signal: AbortSignal;
  /** What the engine pushed before asking (`RunOutputs.push`): the commit whose checks count. */
  head?: PushedHead;
}

/**
 * What a gate decided: the check passed (its report as the step's output), failed (with the structured
 * result a fix step reads), or must wait for an outside event — then the run parks (DESIGN D14).
 */
export type GateResult =
  | { kind: "passed"; output: StepOutput }
  | { kind: "failed"; error: string; output?: StepOutput }
  | { kind: "wait"; key: string; message: string; wakeAt?: number; data?: Record<string, unknown> };

/**
 * Runs the steps that use no agent (`PlannedStep.uses`): a CI gate in the App, a command runner in the
 * CLI and the Action. A thrown error that `isTransient` calls transient makes the step wait and look
 * again shortly; any other fails the step.
 */
export interface StepGates {
  check(request: GateRequest): Promise<GateResult>;
}

/** Receives engine events (check run + sticky comment reporters, metrics, CLI table, tests). */
export interface ProgressSink {
  emit(event: RunEvent, run: RunRecord): void | Promise<void>;
}

export { systemClock, type Clock } from "../resilience/clock.ts";

export interface ListRunsQuery {
  limit?: number;
  status?: RunStatus;
  repo?: string;
  workflow?: string;
}

export interface ConversationMessage {
  role: "user" | "assistant" | "system";
  content: string;
  at: number;
  runId?: string;
}

/** Retention of conversation history: messages kept per context key (the newest ones). */
export const MESSAGES_KEPT_PER_CONTEXT = 200;

/** A webhook delivery waiting in the inbox. */
export interface InboxDelivery {
  id: string;
  /** The event name (`issues`, `issue_comment`, …). */
  name: string;
  /** The payload as received (JSON text). */
  payload: string;
  /** 1-based: how many times it was claimed. */
  attempts: number;
  /** W3C trace context of the acknowledgement, so processing continues the webhook's trace. */
  trace?: Record<string, string>;
}

export interface QueueJob {
  runId: RunId;
  attempts: number;
  /** Epoch ms when the job becomes runnable. */
  runAt: number;
}

/**
 * Durable state. Every adapter (SQLite, PostgreSQL, in-memory) passes `test/store/run-store.contract.ts`.
 * All methods are async so the same contract fits a network database.
 */
export interface RunStore {
  /** Creates the run, its steps and (when `enqueue`) its queue job in one transaction. */
  createRun(run: RunRecord, steps: StepRecord[], options?: { enqueue?: boolean }): Promise<void>;
  getRun(id: RunId): Promise<RunRecord | undefined>;
  /**
   * Optional fast path: only the status of a run (the engine polls it to notice cancels from other
   * processes). Without it the engine uses `getRun`.
   */
  getRunStatus?(id: RunId): Promise<RunStatus | undefined>;
  listRuns(query?: ListRunsQuery): Promise<RunRecord[]>;
  updateRun(id: RunId, patch: Partial<Omit<RunRecord, "id">>): Promise<void>;
  /**
   * Atomically moves a run from one of `from` to `to`; returns false when the run was not in `from`.
   * Used for cancel / claim so two replicas never both win.
   */
  transitionRun(id: RunId, from: RunStatus[], to: RunStatus, patch?: Partial<Omit<RunRecord, "id" | "status">>): Promise<boolean>;
  /** Runs with this concurrency key that are queued, running or waiting (parked), oldest first. */
  findActiveRuns(concurrencyKey: string): Promise<RunRecord[]>;
  /**
   * Runs to resume on start-up: those not in a terminal state and not parked (`waiting`: an event or
   * its poll job resumes it, and reading thousands of them at start-up would only cost memory), and cancelled runs that were never
   * finished (no `finishedAt`, so no `run.finished` event yet: cancelled while a process that has
   * since died was executing them).
   */
  listUnfinishedRuns(): Promise<RunRecord[]>;
  /**
   * Finishes a run in ONE transaction: moves it from one of `from` to `event.status` with `patch`,
   * sets `finishedAt` (the patch's, else `event.at`) and appends the `run.finished` event — so a crash
   * never leaves a final status without its event. A run already finished (terminal with a
   * `finishedAt`) is left alone, so an executor and a canceller may both try: one event is written.
   * Returns false when nothing was written (not in `from`, already finished, or unknown).
   */
  finishRun(id: RunId, from: RunStatus[], event: RunFinishedEvent, patch?: Partial<Omit<RunRecord, "id" | "status">>): Promise<boolean>;

  /** Steps of a run in plan order. */
  getSteps(runId: RunId): Promise<StepRecord[]>;
  /**
   * Patches one step. A key present in the patch with the value `undefined` clears that field
   * (task-level retry resets `error`, `output`, `startedAt`, `finishedAt` this way).
   */
  updateStep(runId: RunId, stepId: StepId, patch: Partial<Omit<StepRecord, "runId" | "stepId">>): Promise<void>;

  appendEvent(event: RunEvent): Promise<void>;
  listEvents(runId: RunId, options?: { limit?: number }): Promise<RunEvent[]>;

  /** Records a webhook delivery id; returns false when it was already seen (a redelivery). */
  recordDelivery(deliveryId: string, event: string): Promise<boolean>;

  /**
   * The webhook inbox (D13). Stores a verified delivery once: false when its id is already there
   * (a redelivery, processed or not). This one insert is all the acknowledgement writes.
   */
  acceptDelivery(delivery: { id: string; name: string; payload: string; trace?: Record<string, string> }, now: number): Promise<boolean>;
  /** Leases the oldest delivery due for processing (received, or whose retry time came), oldest first. */
  claimDelivery(workerId: string, now: number, leaseMs: number): Promise<InboxDelivery | undefined>;
  /**
   * Ends the lease of `workerId`: with `retryAt`, the delivery is processed again from then;
   * without, it is done (its payload dropped, its id kept so a redelivery is still refused).
   * False when `workerId` no longer holds it.
   */
  finishDelivery(id: string, workerId: string, retryAt?: number): Promise<boolean>;

  /**
   * Appends a message. Retention: only the newest `MESSAGES_KEPT_PER_CONTEXT` messages of a key are
   * kept; older ones are deleted on append, so a long thread's history stays bounded.
   */
  appendMessage(contextKey: string, message: ConversationMessage): Promise<void>;
  /** Messages for a conversation, oldest first; with `limit`, only the newest `limit` of them (still oldest first). */
  listMessages(contextKey: string, options?: { limit?: number }): Promise<ConversationMessage[]>;

  /** Small idempotency records for GitHub side effects (sticky comment id, PR number, review fingerprints). */
  getMarker(key: string): Promise<string | undefined>;
  /** Sets a marker only if absent; returns the value now stored (the existing one if another writer won). */
  putMarkerIfAbsent(key: string, value: string): Promise<string>;
  setMarker(key: string, value: string): Promise<void>;

  /**
   * Embedded-queue jobs (the pg-boss adapter keeps its own tables). One job per run: enqueueing a run
   * that already has a waiting job keeps the earlier `runAt`; enqueueing a run whose job is leased marks
   * it to run again, so `completeJob` then releases it instead of deleting it (a retry is never lost),
   * due at the earliest `runAt` given while it was leased.
   */
  enqueueJob(runId: RunId, runAt: number): Promise<void>;
  /** Claims the oldest runnable job, leasing it for `leaseMs`; expired leases are claimable again. */
  claimJob(workerId: string, now: number, leaseMs: number): Promise<QueueJob | undefined>;
  /**
   * Extends a lease (heartbeat). Returns false when `workerId` no longer holds the job (another worker
   * claimed it after this lease expired, or it is gone): the caller must stop executing the run.
   */
  renewJob(runId: RunId, workerId: string, now: number, leaseMs: number): Promise<boolean>;
  /**
   * Completes the job held by `workerId` (deletes it, or releases it when it was enqueued again while
   * leased). Only the current lease holder completes: a stale worker whose job was claimed again by
   * another worker changes nothing and gets false.
   */
  completeJob(runId: RunId, workerId: string): Promise<boolean>;
  /** Queue depth and the age of the oldest runnable job. */
  queueStats(now: number): Promise<{ depth: number; oldestAgeMs: number }>;

  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type JobHandler = (runId: RunId, signal: AbortSignal) => Promise<void>;

/** Work distribution. Embedded: in-process over the store. Scale-out: pg-boss. */
export interface Queue {
  /**
   * Enqueue an existing run (used for retry / resume / wake; new runs are enqueued by `RunStore.createRun`).
   * With `runAt`, not before then (a parked run's poll); a run that already has a waiting job keeps the
   * earlier time, so a wake-up (now) pulls a later poll forward. Enqueued while its job is held, the run
   * runs again once that job ends, at the earliest time asked for meanwhile.
   */
  enqueue(runId: RunId, options?: { runAt?: number }): Promise<void>;
  start(handler: JobHandler): Promise<void>;
  stop(): Promise<void>;
  running(): boolean;
  stats(): Promise<{ depth: number; oldestAgeMs: number }>;
  /**
   * Optional wake-up: a job was just written by `RunStore.createRun(..., { enqueue: true })`, so a
   * polling queue should look now instead of at its next poll. Adapters that are pushed to may omit it.
   */
  notify?(): void;
}

/**
 * Read access to a repository for the context builder (implemented over the GitHub API by
 * `src/github/`, and by a local fake in tests). All reads are bounded by the caller's budget.
 */
export interface RepoReader {
  /** Paths of files at `ref` (blobs only), possibly truncated for huge repositories. */
  listFiles(ref: string): Promise<{ paths: string[]; truncated: boolean }>;
  /** File content at `ref`, or undefined when it does not exist. */
  readFile(path: string, ref: string): Promise<string | undefined>;
  /** Unified diff of a pull request (or of `sinceSha..head` when given). */
  pullRequestDiff(number: number, options?: { sinceSha?: string }): Promise<string>;
  /** The issue / PR thread: title, body and comments, oldest first. */
  thread(number: number): Promise<{ title: string; body: string; comments: { author: string; body: string }[] }>;
}
