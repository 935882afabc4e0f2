/**
 * Prometheus metrics. One registry per app instance (no module singletons), so tests can
 * create as many apps as they like. Labels stay low-cardinality: no repository names, no ids.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export interface Metrics {
  registry: Registry;
  webhooks: Counter<"event" | "outcome">;
  runs: Counter<"workflow" | "conclusion">;
  runDuration: Histogram<"workflow" | "conclusion">;
  steps: Counter<"role" | "outcome">;
  stepDuration: Histogram<"role" | "outcome">;
  stepRetries: Counter<"role">;
  activeRuns: Gauge;
  agentRequests: Counter<"provider" | "outcome">;
  agentRequestDuration: Histogram<"provider" | "outcome">;
  tokens: Counter<"provider" | "kind">;
  costUsd: Counter<"provider">;
  breakerState: Gauge<"provider">;
  limiterWaitSeconds: Histogram<"provider">;
  queueDepth: Gauge;
  queueOldestAgeSeconds: Gauge;
  githubRequests: Counter<"method" | "status">;
  githubRateLimitRemaining: Gauge<"resource">;
  githubWrites: Counter<"surface">;
  alertsFiring: Gauge<"alert">;
  /** Review findings by outcome: `raised` (posted), `repeated_suppressed` (not posted again), `resolved` (fixed by a push). */
  findings: Counter<"outcome">;
}

/** Numeric breaker states exported as `octoflow_circuit_breaker_state`. */
export const BREAKER_STATE = { closed: 0, half_open: 1, open: 2 } as const;

/** A circuit breaker's state by name, as reported by `src/resilience` (`breakerStates()`). */
export type BreakerStateName = keyof typeof BREAKER_STATE;

/** Breaker state per provider, e.g. `{ openai: "closed", anthropic: "open" }`. */
export type BreakerStates = Record<string, BreakerStateName>;

/** Where observability reads breaker states from (sync or async). */
export type BreakerStatesSource = () => BreakerStates | Promise<BreakerStates>;

/**
 * Breaker states as last written to `octoflow_circuit_breaker_state` by `src/resilience` (a fallback
 * source when no live `breakerStates()` is wired). Providers never seen are absent.
 */
export async function breakerStatesFromGauge(metrics: Pick<Metrics, "breakerState">): Promise<BreakerStates> {
  const byValue = new Map<number, BreakerStateName>(Object.entries(BREAKER_STATE).map(([k, v]) => [v, k as BreakerStateName]));
  const out: BreakerStates = {};
  for (const v of (await metrics.breakerState.get()).values) {
    const state = byValue.get(v.value);
    if (state && v.labels.provider !== undefined) out[String(v.labels.provider)] = state;
  }
  return out;
}

/**
 * Creates a registry with default process metrics and every Octoflow metric.
 *
 * @example
 * const metrics = createMetrics();
 * metrics.webhooks.inc({ event: "issues", outcome: "accepted" });
 * const text = await metrics.registry.metrics();
 */
export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults !== false) collectDefaultMetrics({ register: registry });
  const r = [registry];
  return {
    registry,
    webhooks: new Counter({ name: "octoflow_webhooks_received_total", help: "Webhook deliveries by event and outcome", labelNames: ["event", "outcome"], registers: r }),
    runs: new Counter({ name: "octoflow_runs_total", help: "Finished runs by workflow and conclusion", labelNames: ["workflow", "conclusion"], registers: r }),
    runDuration: new Histogram({ name: "octoflow_run_duration_seconds", help: "Run wall time", labelNames: ["workflow", "conclusion"], buckets: DURATION_BUCKETS, registers: r }),
    steps: new Counter({ name: "octoflow_steps_total", help: "Finished steps by role and outcome", labelNames: ["role", "outcome"], registers: r }),
    stepDuration: new Histogram({ name: "octoflow_step_duration_seconds", help: "Step wall time including retries", labelNames: ["role", "outcome"], buckets: DURATION_BUCKETS, registers: r }),
    stepRetries: new Counter({ name: "octoflow_step_retries_total", help: "Step attempts retried", labelNames: ["role"], registers: r }),
    activeRuns: new Gauge({ name: "octoflow_active_runs", help: "Runs executing in this process", registers: r }),
    agentRequests: new Counter({ name: "octoflow_agent_requests_total", help: "Model / remote-agent requests by provider and outcome", labelNames: ["provider", "outcome"], registers: r }),
    agentRequestDuration: new Histogram({ name: "octoflow_agent_request_duration_seconds", help: "Model / remote-agent request duration", labelNames: ["provider", "outcome"], buckets: DURATION_BUCKETS, registers: r }),
    tokens: new Counter({ name: "octoflow_tokens_total", help: "Tokens by provider and kind (input, output, cached)", labelNames: ["provider", "kind"], registers: r }),
    costUsd: new Counter({ name: "octoflow_cost_usd_total", help: "Model spend in US dollars", labelNames: ["provider"], registers: r }),
    breakerState: new Gauge({ name: "octoflow_circuit_breaker_state", help: "Circuit breaker per provider: 0 closed, 1 half-open, 2 open", labelNames: ["provider"], registers: r }),
    limiterWaitSeconds: new Histogram({ name: "octoflow_rate_limiter_wait_seconds", help: "Time spent waiting for a provider rate-limit token", labelNames: ["provider"], buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60], registers: r }),
    queueDepth: new Gauge({ name: "octoflow_queue_depth", help: "Runnable jobs waiting in the queue", registers: r }),
    queueOldestAgeSeconds: new Gauge({ name: "octoflow_queue_oldest_job_age_seconds", help: "Age of the oldest runnable job", registers: r }),
    githubRequests: new Counter({ name: "octoflow_github_requests_total", help: "GitHub REST requests by method and status class", labelNames: ["method", "status"], registers: r }),
    githubRateLimitRemaining: new Gauge({ name: "octoflow_github_rate_limit_remaining", help: "GitHub rate limit remaining (last seen)", labelNames: ["resource"], registers: r }),
    githubWrites: new Counter({ name: "octoflow_github_progress_writes_total", help: "Progress writes to GitHub by surface (check_run, comment)", labelNames: ["surface"], registers: r }),
    alertsFiring: new Gauge({ name: "octoflow_alerts_firing", help: "In-process alerts currently firing (1) or not (0)", labelNames: ["alert"], registers: r }),
    findings: new Counter({ name: "octoflow_findings_total", help: "Review findings by outcome (raised, repeated_suppressed, resolved)", labelNames: ["outcome"], registers: r }),
  };
}
