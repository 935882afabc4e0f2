/**
 * One step, all its attempts: per-attempt timeout (AbortSignal), retries through p-retry with
 * backoff delays taken on the engine's Clock. Which failures a step retries, the backoff and the
 * `retry-after` cap are the resilience layer's (`isStepRetriable`, `retryDelay`): a step retries its
 * own failures (a timeout, an answer in the wrong format), never a call its retry layer already
 * retried to exhaustion. Every model call's usage is counted into the step's `spent`, failed attempts
 * included. Persistence failures are not step failures: they abort the execution.
 */
import { context, SpanStatusCode, trace, type Context } from "@opentelemetry/api";
import pRetry, { AbortError } from "p-retry";
import { InvalidOutputError } from "../errors/invalid-output-error.ts";
import { scrubSecrets } from "../security/scrub-secrets.ts";
import { isStepRetriable } from "../resilience/classify-error.ts";
import { MAX_RETRY_AFTER_MS, retryDelay } from "../resilience/retry-policy.ts";
import type { ResolvedEngineDeps } from "./engine-deps.ts";
import type { AgentProgress } from "./ports.ts";
import { StepTimeoutError } from "../errors/step-timeout-error.ts";
import type { PlannedStep, RunEvent, RunRecord, StepOutcome, StepOutput, StepRecord, StepSpend, Usage } from "./types.ts";
import { RunAbort } from "../errors/run-abort.ts";
import { PersistenceError } from "../errors/persistence-error.ts";

export interface StepRunInput {
  deps: ResolvedEngineDeps;
  run: () => RunRecord;
  step: PlannedStep;
  record: StepRecord;
  prompt: string;
  upstream: Readonly<Record<string, StepOutput>>;
  runSignal: AbortSignal;
  traceContext: Context;
  /** Persists and emits an event; throws PersistenceError when the store fails. */
  recordEvent(event: RunEvent): Promise<void>;
  persistStep(patch: Partial<StepRecord>): Promise<void>;
  /** Emits a progress event (persisted at a bounded rate; never throws). */
  progress(event: RunEvent): void;
}

export type StepResult = { outcome: StepOutcome; attempts: number; startedAt: number };

function abortPromise(signal: AbortSignal): { promise: Promise<never>; dispose(): void } {
  let onAbort = () => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  promise.catch(() => {});
  return { promise, dispose: () => signal.removeEventListener("abort", onAbort) };
}

const isCount = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0;

/**
 * The agent port is typed, but an adapter (a custom backend, a proxy) can still hand back garbage;
 * it fails the step in words instead of crashing the run's aggregation later.
 */
function checkedOutput(output: unknown, stepId: string): StepOutput {
  const o = output as Partial<StepOutput> | null | undefined;
  const usage = o?.usage;
  if (!o || typeof o !== "object" || typeof o.text !== "string" || !usage || !isCount(usage.inputTokens) || !isCount(usage.outputTokens) || !isCount(usage.cachedTokens)) {
    throw new InvalidOutputError(`step "${stepId}": the agent returned a malformed result (expected text and token usage)`);
  }
  return isCount(o.costUsd) ? (o as StepOutput) : { ...(o as StepOutput), costUsd: 0 };
}

const message = (error: unknown) => scrubSecrets(error instanceof Error ? error.message : String(error)).slice(0, 4000);

/**
 * Runs a step until it succeeds, fails for good, or the run is aborted.
 */
export async function runStep(input: StepRunInput): Promise<StepResult> {
  const { deps, step, runSignal } = input;
  const runId = input.record.runId;
  const tracer = trace.getTracer("octoflow");
  const span = tracer.startSpan(`step ${step.id}`, { attributes: { "octoflow.run_id": runId, "octoflow.step": step.id, "octoflow.role": step.role } }, input.traceContext);
  const spanContext = trace.setSpan(input.traceContext, span);
  let attempts = input.record.attempts;
  const startedAt = deps.clock.now();
  // what the step's model calls cost so far, earlier executions (a resume) included
  const spent: StepSpend = { usage: { ...(input.record.spent?.usage ?? { inputTokens: 0, outputTokens: 0, cachedTokens: 0 }) }, costUsd: input.record.spent?.costUsd ?? 0 };
  let reportedThisAttempt = false;
  let stepOver = false;
  const addSpend = (usage: Usage, costUsd: number) => {
    spent.usage.inputTokens += usage.inputTokens;
    spent.usage.outputTokens += usage.outputTokens;
    spent.usage.cachedTokens += usage.cachedTokens;
    spent.costUsd += costUsd;
  };
  const onUsage = (usage: Usage, costUsd: number) => {
    if (stepOver) return;
    reportedThisAttempt = true;
    addSpend(usage, costUsd);
  };

  const attempt = async (): Promise<StepOutput> => {
    attempts += 1;
    const attemptNumber = attempts;
    reportedThisAttempt = false;
    try {
      // Issued together so a group-committing store writes both in one transaction.
      await Promise.all([
        input.persistStep({ status: "running", attempts: attemptNumber, ...(attemptNumber === input.record.attempts + 1 ? { startedAt } : {}) }),
        input.recordEvent({ type: "step.started", runId, stepId: step.id, attempt: attemptNumber, at: deps.clock.now() }),
      ]);
    } catch (error) {
      throw new AbortError(error instanceof PersistenceError ? error : new PersistenceError(error));
    }
    const controller = new AbortController();
    const onRunAbort = () => controller.abort(runSignal.reason);
    if (runSignal.aborted) onRunAbort();
    else runSignal.addEventListener("abort", onRunAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new StepTimeoutError(step.id, step.timeoutMs)), step.timeoutMs);
    timer.unref?.();
    const aborted = abortPromise(controller.signal);
    try {
      const onProgress = (p: AgentProgress) => {
        if (controller.signal.aborted) return;
        input.progress({
          type: "step.progress",
          runId,
          stepId: step.id,
          at: deps.clock.now(),
          tokens: p.tokens,
          tail: p.tail.slice(-2000),
          ...(p.message !== undefined ? { message: p.message.slice(0, 500) } : {}),
        });
      };
      const request = {
        runId,
        step,
        plan: input.run().plan,
        prompt: input.prompt,
        trigger: input.run().trigger,
        upstream: input.upstream,
        attempt: attemptNumber,
        signal: controller.signal,
        onProgress,
        onUsage,
      };
      const work = context.with(spanContext, () => deps.agents.run(request));
      const output = checkedOutput(await Promise.race([work, aborted.promise]), step.id);
      // an agent that does not report its calls one by one: its output's usage is what it spent
      if (!reportedThisAttempt) addSpend(output.usage, output.costUsd);
      return output;
    } finally {
      clearTimeout(timer);
      aborted.dispose();
      runSignal.removeEventListener("abort", onRunAbort);
    }
  };

  try {
    const output = await pRetry(attempt, {
      retries: step.retries,
      minTimeout: 0,
      maxTimeout: 0,
      signal: runSignal,
      shouldRetry: async ({ error, retriesConsumed }) => {
        if (runSignal.aborted || !isStepRetriable(error)) return false;
        const delayMs = retryDelay(retriesConsumed + 1, error, deps.backoff, MAX_RETRY_AFTER_MS, deps.random);
        if (delayMs === undefined) return false;
        deps.metrics?.stepRetries.inc({ role: step.role });
        deps.log.warn({ runId, stepId: step.id, attempt: attempts, delayMs, err: error }, "step attempt failed; retrying");
        try {
          await input.recordEvent({ type: "step.retrying", runId, stepId: step.id, attempt: attempts, delayMs, error: message(error), at: deps.clock.now() });
        } catch (persistError) {
          throw persistError instanceof PersistenceError ? persistError : new PersistenceError(persistError);
        }
        await deps.clock.sleep(delayMs, runSignal);
        return true;
      },
    });
    stepOver = true;
    span.setStatus({ code: SpanStatusCode.OK });
    if (!sameSpend(spent, output)) await saveSpent(input, spent);
    return { outcome: { kind: "succeeded", output }, attempts, startedAt };
  } catch (error) {
    stepOver = true;
    if (error instanceof PersistenceError) throw error;
    if (runSignal.aborted) {
      const reason = runSignal.reason;
      if (reason instanceof RunAbort && reason.kind === "shutdown") {
        // best effort: the resumed step counts on from here
        await saveSpent(input, spent).catch(() => undefined);
        return { outcome: { kind: "interrupted" }, attempts, startedAt };
      }
      await saveSpent(input, spent);
      return { outcome: { kind: "cancelled", reason: reason instanceof Error ? reason.message : "run cancelled" }, attempts, startedAt };
    }
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: message(error) });
    await saveSpent(input, spent);
    return { outcome: { kind: "failed", error: message(error), retriable: isStepRetriable(error) }, attempts, startedAt };
  } finally {
    span.end();
  }
}

function sameSpend(spent: StepSpend, output: StepOutput): boolean {
  const a = spent.usage;
  const b = output.usage;
  return a.inputTokens === b.inputTokens && a.outputTokens === b.outputTokens && a.cachedTokens === b.cachedTokens && Math.abs(spent.costUsd - output.costUsd) < 1e-9;
}

/** Stores what the step's calls cost (nothing to store when no call was paid for). */
async function saveSpent(input: StepRunInput, spent: StepSpend): Promise<void> {
  const u = spent.usage;
  if (u.inputTokens + u.outputTokens + u.cachedTokens === 0 && spent.costUsd === 0 && !input.record.spent) return;
  try {
    await input.persistStep({ spent: { usage: { ...u }, costUsd: spent.costUsd } });
  } catch (error) {
    throw error instanceof PersistenceError ? error : new PersistenceError(error);
  }
}
