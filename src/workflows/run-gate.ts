/**
 * Steps that run no agent (`PlannedStep.uses`, DESIGN D14/D15) and approval gates. A gate step pushes
 * the change as it stands (so the repository's CI runs on it), then asks the `StepGates` port whether
 * its check passed, failed or must wait; waiting parks the step (status `waiting`) until an event or a
 * poll runs it again. An approval gate parks its step until someone approved it.
 */
import { scrubSecrets } from "../security/scrub-secrets.ts";
import { isTransient, retryAfterOf } from "../resilience/classify-error.ts";
import { backoffDelay } from "../resilience/backoff.ts";
import type { PushedHead } from "./ports.ts";
import type { RunContext } from "./run-context.ts";
import type { PlannedStep, StepOutput, StepRecord, StepWait } from "./types.ts";
import type { StepResultLike } from "./step-outcomes.ts";

/** Key of an approval gate's wait: what `/octoflow approve` and the Approve button match. */
export const approvalKey = (stepId: string) => `approval:${stepId}`;
/** Key of a CI gate's wait: what a check suite / check run / status event of that commit matches. */
export const ciKey = (sha: string) => `ci:${sha}`;

/** How soon a gate whose check failed for a passing reason (GitHub answered 5xx) looks again. */
const GATE_RETRY_MAX_MS = 5 * 60_000;

/** `90 s`, `10 min`, `2 h`: a wait's length in a step message. */
function formatDurationShort(ms: number): string {
  if (ms < 120_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Number((ms / 3_600_000).toFixed(1))} h`;
}

const text = (error: unknown) => scrubSecrets(error instanceof Error ? error.message : String(error)).split("\n")[0]?.slice(0, 300) ?? "unknown error";

/**
 * The wait of an approval gate that was not approved yet, or undefined when the step may run.
 *
 * @example
 * const wait = approvalWait(ctx, step, record); if (wait) await recordOutcome(ctx, step, parked(wait, record));
 */
export function approvalWait(ctx: RunContext, step: PlannedStep, record: StepRecord): StepWait | undefined {
  if (!step.approval || record.approval) return undefined;
  const now = ctx.deps.clock.now();
  return {
    reason: "approval",
    key: approvalKey(String(step.id)),
    message: `waiting for approval by a user with ${step.approval.permission} permission (the Approve button, or \`/octoflow approve\`)`,
    since: record.waiting?.since ?? now,
  };
}

/** A step result that parks the step with `wait`. */
export function parked(wait: StepWait, record: StepRecord, now: number): StepResultLike {
  return { outcome: { kind: "waiting", wait }, attempts: record.attempts, startedAt: record.startedAt ?? now };
}

/**
 * Runs a `uses` step once: push, check, decide. Never throws for a gate's own failure (that fails the
 * step, or — when transient — makes it wait and look again); a store failure propagates.
 */
export async function runGate(ctx: RunContext, step: PlannedStep, record: StepRecord, upstream: Readonly<Record<string, StepOutput>>, signal: AbortSignal, push: () => Promise<PushedHead | undefined>): Promise<StepResultLike> {
  const { deps } = ctx;
  const now = deps.clock.now();
  const attempts = record.attempts + (record.status === "waiting" ? 0 : 1);
  const startedAt = record.startedAt ?? now;
  const since = record.waiting?.since ?? now;
  const failed = (error: string, output?: StepOutput): StepResultLike => ({ outcome: { kind: "failed", error, retriable: false, ...(output ? { output } : {}) }, attempts, startedAt });
  if (!deps.gates) return failed(`step "${step.id}" uses ${step.uses?.kind ?? "a gate"}, which this Octoflow process cannot run (no step gate is configured)`);
  if (record.waiting && now - since > step.timeoutMs) {
    return failed(`${step.uses?.kind === "ci" ? "CI" : "the check"} did not finish within ${formatDurationShort(step.timeoutMs)} (${record.waiting.message})`);
  }
  if (record.status !== "waiting") {
    await ctx.setStep(step.id, { status: "running", attempts, startedAt });
    await ctx.recordEvent({ type: "step.started", runId: ctx.run.id, stepId: step.id, attempt: attempts, at: now });
  }
  try {
    // only a CI gate needs the change on GitHub first; a command runs on the local checkout
    const stored = record.waiting?.data?.["head"] as PushedHead | undefined;
    const head = step.uses?.kind === "ci" ? (stored ?? (await push())) : undefined;
    const result = await deps.gates.check({ run: ctx.run, step, record, steps: [...ctx.records.values()], upstream, signal, ...(head ? { head } : {}) });
    switch (result.kind) {
      case "passed":
        return { outcome: { kind: "succeeded", output: result.output }, attempts, startedAt };
      case "failed":
        return failed(result.error, result.output);
      case "wait": {
        const data = { ...(result.data ?? {}), ...(head ? { head } : {}) };
        const wait: StepWait = { reason: "ci", key: result.key, message: result.message, since, ...(result.wakeAt !== undefined ? { wakeAt: result.wakeAt } : {}), data };
        return { outcome: { kind: "waiting", wait }, attempts, startedAt };
      }
    }
  } catch (error) {
    if (signal.aborted) throw error;
    if (!isTransient(error)) return failed(`${step.uses?.kind ?? "gate"} check failed: ${text(error)}`);
    const polls = Number(record.waiting?.data?.["retries"] ?? 0) + 1;
    const delayMs = Math.min(GATE_RETRY_MAX_MS, retryAfterOf(error) ?? backoffDelay(polls, deps.backoff, deps.random));
    ctx.log.warn({ err: error, stepId: step.id, delayMs }, "gate check failed; looking again later");
    const wait: StepWait = {
      reason: "retry",
      key: `retry:${String(step.id)}`,
      message: `looking again in ${formatDurationShort(delayMs)}: ${text(error)}`,
      since,
      wakeAt: now + delayMs,
      data: { ...(record.waiting?.data ?? {}), retries: polls },
    };
    return { outcome: { kind: "waiting", wait }, attempts, startedAt };
  }
}
