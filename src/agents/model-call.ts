/**
 * One model call with everything around it: resilience (limiter, breaker, retry), an
 * OpenTelemetry span, per-attempt metrics and coalesced streaming progress.
 */
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { ProviderUnavailableError } from "../errors/provider-unavailable-error.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { ProviderResilience } from "../resilience/provider-resilience.ts";
import type { AgentProgress, Clock } from "../workflows/ports.ts";
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
            onRetry: ({ attempt, delayMs, error }) => {
              span.addEvent("retry", { attempt, delay_ms: delayMs });
              ctx.log.warn({ provider: providerName, attempt, delayMs, err: error.message }, "model call failed; retrying");
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
}

function observe(ctx: ModelCallContext, provider: string, outcome: string, started: number) {
  ctx.metrics.agentRequests.inc({ provider, outcome });
  ctx.metrics.agentRequestDuration.observe({ provider, outcome }, Math.max(0, ctx.clock.now() - started) / 1000);
}
