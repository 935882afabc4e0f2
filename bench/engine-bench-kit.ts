/**
 * Shared pieces of the engine benchmarks: the 7-step template with a fan-out of 3, fixed-latency
 * fake agents, and a trigger. Not a benchmark itself.
 */
import type { WorkflowTemplate } from "../src/config/template-schema.ts";
import { workflow } from "../src/workflows/builder.ts";
import { planRun } from "../src/workflows/plan.ts";
import type { AgentRunner } from "../src/workflows/ports.ts";
import type { RunPlan, Trigger } from "../src/workflows/types.ts";

/** analyse → generate → (review, tests, docs) → finalise → publish: 7 steps, critical path of 5. */
export const CRITICAL_PATH_STEPS = 5;

export function benchTrigger(number: number): Trigger {
  return {
    kind: "manual",
    repo: { owner: "bench", name: "repo", defaultBranch: "main" },
    number,
    isPullRequest: false,
    actor: "bench",
    inputs: {},
    issue: { title: `Benchmark issue ${number}`, body: "Make it faster." },
  };
}

let template: WorkflowTemplate | undefined;

export function benchPlan(number: number): RunPlan {
  template ??= workflow("bench-seven")
    .step({ id: "analyse", role: "generate", prompt: "Analyse {{ issue.title }}: {{ issue.body }}" })
    .step({ id: "generate", role: "generate", prompt: "Implement {{ steps.analyse.output }}" }).needs("analyse")
    .step({ id: "review", role: "review", prompt: "Review {{ steps.generate.output }}" }).needs("generate")
    .step({ id: "tests", role: "test", prompt: "Test {{ steps.generate.output }}" }).needs("generate")
    .step({ id: "docs", role: "docs", prompt: "Document {{ steps.generate.output }}" }).needs("generate")
    .step({ id: "finalise", role: "generate", prompt: "Finalise {{ steps.review.output }} {{ steps.tests.output }}" }).needs("review", "tests", "docs")
    .step({ id: "publish", role: "docs", prompt: "Publish {{ steps.finalise.output }}" }).needs("finalise")
    .build();
  return planRun(template, benchTrigger(number));
}

/** An agent that answers after `latencyMs` (0: on the next macrotask), honouring the abort signal. */
export function fixedLatencyAgent(latencyMs: number): AgentRunner & { calls: number } {
  const agent = {
    calls: 0,
    async run(request: Parameters<AgentRunner["run"]>[0]) {
      agent.calls++;
      await new Promise<void>((resolve, reject) => {
        const timer = latencyMs > 0 ? setTimeout(resolve, latencyMs) : setImmediate(resolve);
        request.signal.addEventListener("abort", () => {
          if (latencyMs > 0) clearTimeout(timer as NodeJS.Timeout);
          else clearImmediate(timer as NodeJS.Immediate);
          reject(request.signal.reason);
        }, { once: true });
      });
      return { text: `${request.step.id}: done`, usage: { inputTokens: 100, outputTokens: 50, cachedTokens: 0 }, costUsd: 0.001 };
    },
  };
  return agent;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
