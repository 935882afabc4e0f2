/**
 * One model call with everything around it: resilience (limiter, breaker, retry), an
 * OpenTelemetry span, per-attempt metrics and usage, coalesced streaming progress, and a word to the
 * user as soon as a retry is decided ("the model stopped responding; retrying (2/4)").
 */
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { ProviderUnavailableError } from "../errors/provider-unavailable-error.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { idleTimeoutOf } from "../resilience/classify-error.ts";
import type { ProviderResilience } from "../resilience/provider-resilience.ts";
import type { RetryInfo } from "../resilience/retry-policy.ts";
import type { AgentProgress, Clock } from "../workflows/ports.ts";
import type { Usage } from "../workflows/types.ts";
import type { ModelCall, ModelProvider, ModelResult } from "./model-provider.ts";
import { createStreamProgress } from "./stream-progress.ts";
import { estimateTokens } from "../workflows/untrusted-text.ts";

export type AgentMetrics = Pick<Metrics, "agentRequests" | "agentRequestDuration" | "tokens" | "costUsd" | "breakerState" | "limiterWaitSeconds">;

export interface ModelCallContext {
  provider: ModelProvider;
  resilience: ProviderResilience;
  metrics: AgentMetrics;
  log: Logger;
  clock: Clock;
  role: string;
  onProgress: (progress: AgentProgress) => void;
  progressIntervalMs: number;
  /** Price of a call's usage at this model's rate (0 when unpriced), for the token and cost metrics. */
  costOf?: (usage: ModelResult["usage"]) => number;
  /**
   * Told of every answered call's usage and cost as soon as it is paid for, so a step's totals count
   * the calls of attempts that fail later too.
   */
  onUsage?: (usage: Usage, costUsd: number) => void;
}

/**
 * Runs `call` through the provider's resilience policies. Progress restarts with each attempt
 * (the engine shows "tokens so far in this attempt").
 */
export async function callModel(ctx: ModelCallContext, call: Omit<ModelCall, "onText">): Promise<ModelResult> {
  const tracer = trace.getTracer("octoflow");
  const providerName = ctx.provider.name;
  const promptTokens = estimateTokens(call.system) + call.messages.reduce((n, m) => n + estimateTokens(m.content) + 4, 0);
  return tracer.startActiveSpan(
    "model.call",
    { attributes: { "gen_ai.system": providerName, "gen_ai.request.model": call.model, "octoflow.role": ctx.role, "octoflow.prompt_tokens_estimate": promptTokens } },
    async (span) => {
      let attempts = 0;
      try {
        const result = await ctx.resilience.run(
          providerName,
          async (attempt) => {
            attempts = attempt;
            const started = ctx.clock.now();
            const progress = createStreamProgress({ onProgress: ctx.onProgress, now: ctx.clock.now, intervalMs: ctx.progressIntervalMs });
            try {
              const out = await ctx.provider.call({ ...call, onText: (delta) => progress.text(delta) });
              progress.flush();
              observe(ctx, providerName, "success", started);
              // every answered call is paid for, also when the step fails later (edits that never apply)
              recordUsage(ctx, providerName, out.usage);
              return out;
            } catch (error) {
              observe(ctx, providerName, call.signal.aborted ? "cancelled" : "error", started);
              throw error;
            }
          },
          {
            cost: { requests: 1, tokens: promptTokens },
            signal: call.signal,
            onRetry: (info) => {
              span.addEvent("retry", { attempt: info.attempt, delay_ms: info.delayMs });
              ctx.log.warn({ provider: providerName, attempt: info.attempt, delayMs: info.delayMs, err: info.error.message }, "model call failed; retrying");
              tellRetry(ctx, info);
            },
          },
        );
        span.setAttributes({
          "gen_ai.usage.input_tokens": result.usage.inputTokens,
          "gen_ai.usage.output_tokens": result.usage.outputTokens,
          "gen_ai.usage.cached_tokens": result.usage.cachedTokens,
          "octoflow.attempts": attempts,
        });
        span.setStatus({ code: SpanStatusCode.OK });
        return result;
      } catch (error) {
        if (error instanceof ProviderUnavailableError) ctx.metrics.agentRequests.inc({ provider: providerName, outcome: "rejected" });
        span.setAttribute("octoflow.attempts", attempts);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

function recordUsage(ctx: ModelCallContext, provider: string, usage: ModelResult["usage"]) {
  ctx.metrics.tokens.inc({ provider, kind: "input" }, usage.inputTokens);
  ctx.metrics.tokens.inc({ provider, kind: "output" }, usage.outputTokens);
  ctx.metrics.tokens.inc({ provider, kind: "cached" }, usage.cachedTokens);
  const cost = ctx.costOf?.(usage) ?? 0;
  if (cost > 0) ctx.metrics.costUsd.inc({ provider }, cost);
  ctx.onUsage?.(usage, cost);
}

/**
 * Reports a decided retry as the step's progress (its message and the live tail the check run
 * shows), before the backoff delay starts, so the word reaches GitHub while the call waits.
 */
function tellRetry(ctx: ModelCallContext, { attempt, maxAttempts, error }: RetryInfo) {
  const what = idleTimeoutOf(error) ? "the model stopped responding" : `the model call failed (${error.message.length > 160 ? `${error.message.slice(0, 160)}…` : error.message})`;
  const message = `${what}; retrying (${attempt + 1}/${maxAttempts})`;
  try {
    ctx.onProgress({ tokens: 0, tail: message, message });
  } catch {
    // progress is best effort
  }
}

function observe(ctx: ModelCallContext, provider: string, outcome: string, started: number) {
  ctx.metrics.agentRequests.inc({ provider, outcome });
  ctx.metrics.agentRequestDuration.observe({ provider, outcome }, Math.max(0, ctx.clock.now() - started) / 1000);
}
