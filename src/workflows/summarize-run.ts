/**
 * Result aggregation: per-run totals, success rate and the critical path.
 */
import { criticalPath } from "./dag.ts";
import { asStepId, type RunRecord, type RunSummary, type StepRecord, type Usage } from "./types.ts";

/** Wall time of a step (0 when it never ran). */
export function stepDurationMs(step: StepRecord): number {
  return step.startedAt !== undefined && step.finishedAt !== undefined ? Math.max(0, step.finishedAt - step.startedAt) : 0;
}

/**
 * Token and cost totals of every model call the run's steps made: a step's `spent` (all its attempts,
 * failed ones and repair rounds included), or its output's usage when that is all it spent. The same
 * calls `/metrics` counts.
 *
 * @example
 * const { usage, costUsd } = sumUsage(await store.getSteps(runId));
 */
export function sumUsage(steps: readonly StepRecord[]): { usage: Usage; costUsd: number } {
  const usage = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
  let costUsd = 0;
  for (const step of steps) {
    const spend = step.spent ?? step.output;
    if (!spend) continue;
    usage.inputTokens += spend.usage.inputTokens;
    usage.outputTokens += spend.usage.outputTokens;
    usage.cachedTokens += spend.usage.cachedTokens;
    costUsd += spend.costUsd;
  }
  return { usage, costUsd };
}

/**
 * Aggregates a run. `successRate` is succeeded ÷ steps that ran (1 when none ran); the critical
 * path is the longest dependency chain by step duration.
 *
 * @example
 * const { successRate, criticalPath, usage, costUsd } = summarizeRun(run, steps, Date.now());
 */
export function summarizeRun(run: RunRecord, steps: readonly StepRecord[], now: number): RunSummary {
  const count = (status: StepRecord["status"]) => steps.filter((s) => s.status === status).length;
  const succeeded = count("succeeded");
  const failed = count("failed");
  const cancelled = count("cancelled");
  const ran = succeeded + failed + cancelled;
  const durations: Record<string, number> = {};
  for (const step of steps) durations[step.stepId] = stepDurationMs(step);
  const path = criticalPath(run.plan.steps, durations);
  const { usage, costUsd } = sumUsage(steps);
  const start = run.startedAt ?? run.createdAt;
  return {
    steps: steps.length,
    succeeded,
    failed,
    skipped: count("skipped"),
    cancelled,
    successRate: ran === 0 ? 1 : succeeded / ran,
    durationMs: Math.max(0, (run.finishedAt ?? now) - start),
    criticalPath: path.path.map(asStepId),
    criticalPathMs: path.ms,
    usage,
    costUsd: Math.round(costUsd * 1e6) / 1e6,
  };
}
