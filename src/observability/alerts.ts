/**
 * In-process alerting. Every `intervalMs` the evaluator reads the app's own metrics (windowed by
 * keeping snapshots), the breaker states and the queue stats, and compares them with thresholds:
 *
 * | alert                  | value                                                    |
 * |------------------------|----------------------------------------------------------|
 * | `run_error_rate`       | failed runs / finished runs over the window              |
 * | `agent_error_rate`     | failed agent requests / agent requests over the window   |
 * | `step_latency_p95`     | p95 step duration (seconds) over the window              |
 * | `circuit_breaker_open` | number of providers whose breaker is open                |
 * | `queue_backlog_age`    | age (seconds) of the oldest runnable job                 |
 *
 * A transition logs one structured event (`{ alert, state, value, threshold }`), sets
 * `octoflow_alerts_firing{alert}`, shows in `/readyz` detail and, with a webhook URL, posts a
 * Slack-compatible message. `deploy/prometheus/alerts.yml` ships the same thresholds as rules.
 */
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Clock } from "../workflows/ports.ts";
import type { HealthCheck } from "./health.ts";
import type { BreakerStatesSource, Metrics } from "./metrics.ts";
import { createAlertNotifier, type AlertNotifier } from "./alert-notifier.ts";
import { histogramBuckets, histogramQuantile, subtractBuckets, type Bucket } from "./histogram-quantile.ts";

export const ALERT_NAMES = ["run_error_rate", "agent_error_rate", "step_latency_p95", "circuit_breaker_open", "queue_backlog_age"] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

/**
 * Agent request outcomes that are not errors (a cancelled request is the user's choice); every other
 * `outcome` label (`error`, `rejected` by an open breaker, `timeout`, …) counts as an error.
 */
export const AGENT_NON_ERROR_OUTCOMES: readonly string[] = ["success", "succeeded", "ok", "cancelled"];

export interface AlertThresholds {
  /** Window for rates and the p95, in seconds (default 600). */
  windowSeconds: number;
  /** Fire when failed / finished runs exceeds this ratio (default 0.25). */
  runErrorRate: number;
  /** Fire when failed / all agent requests exceeds this ratio (default 0.25). */
  agentErrorRate: number;
  /** Rates are only judged with at least this many events in the window (default 5). */
  minEvents: number;
  /** Fire when the p95 step duration exceeds this many seconds (default 900). */
  stepLatencyP95Seconds: number;
  /** Fire when the oldest runnable job is older than this many seconds (default 300). */
  queueBacklogAgeSeconds: number;
}

export const DEFAULT_ALERT_THRESHOLDS: Readonly<AlertThresholds> = Object.freeze({
  windowSeconds: 600,
  runErrorRate: 0.25,
  agentErrorRate: 0.25,
  minEvents: 5,
  stepLatencyP95Seconds: 900,
  queueBacklogAgeSeconds: 300,
});

export interface AlertState {
  alert: AlertName;
  firing: boolean;
  value: number;
  threshold: number;
  summary: string;
  /** Epoch ms when the alert started firing. */
  since?: number;
}

export interface AlertSources {
  breakerStates?: BreakerStatesSource;
  queueStats?: () => Promise<{ depth: number; oldestAgeMs: number }>;
}

export interface AlertEvaluator {
  /** Runs one evaluation now (serialised with the timer) and returns every alert's state. */
  evaluate(): Promise<AlertState[]>;
  /** Alerts currently firing. */
  firing(): AlertState[];
  /** Starts periodic evaluation (timer is unref'd). */
  start(intervalMs?: number): void;
  /** Stops the timer and waits for a running evaluation. */
  stop(): Promise<void>;
  /** A readiness check that stays ok but lists firing alerts in its detail. */
  healthCheck(): HealthCheck;
}

export interface AlertEvaluatorDeps {
  metrics: Metrics;
  log: Logger;
  clock?: Pick<Clock, "now">;
  thresholds?: Partial<AlertThresholds>;
  sources?: AlertSources;
  /** Slack-compatible incoming webhook; no posts when unset. */
  webhookUrl?: string | undefined;
  fetchImpl?: typeof fetch;
  /** At most one post per alert in this interval (default 15 minutes). */
  notifyIntervalMs?: number;
  /** Defaults to the host name. */
  instance?: string;
  /** Replaces the webhook notifier (e.g. to fan out elsewhere). */
  notifier?: AlertNotifier;
}

interface Snapshot {
  at: number;
  runsTotal: number;
  runsFailed: number;
  agentTotal: number;
  agentFailed: number;
  stepBuckets: Bucket[];
}

/**
 * @example
 * const alerts = createAlertEvaluator({ metrics, log, webhookUrl: env.ALERT_WEBHOOK_URL,
 *   sources: { breakerStates: () => resilience.breakerStates(), queueStats: () => queue.stats() } });
 * alerts.start(15_000);
 * health.register("alerts", alerts.healthCheck());
 */
export function createAlertEvaluator(deps: AlertEvaluatorDeps): AlertEvaluator {
  const clock = deps.clock ?? { now: () => Date.now() };
  const t: AlertThresholds = { ...DEFAULT_ALERT_THRESHOLDS, ...deps.thresholds };
  const log = deps.log.child({ component: "alerts" });
  const notifier =
    deps.notifier ??
    (deps.webhookUrl
      ? createAlertNotifier({
          webhookUrl: deps.webhookUrl,
          log,
          clock,
          ...(deps.fetchImpl ? { fetchImpl: deps.fetchImpl } : {}),
          ...(deps.notifyIntervalMs === undefined ? {} : { minIntervalMs: deps.notifyIntervalMs }),
          instance: deps.instance ?? hostname(),
        })
      : undefined);
  const states = new Map<AlertName, AlertState>();
  const snapshots: Snapshot[] = [{ at: clock.now(), runsTotal: 0, runsFailed: 0, agentTotal: 0, agentFailed: 0, stepBuckets: [] }];
  let lastEvaluatedAt: number | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  for (const alert of ALERT_NAMES) deps.metrics.alertsFiring.set({ alert }, 0);

  async function snapshot(at: number): Promise<Snapshot> {
    const runs = (await deps.metrics.runs.get()).values;
    const agent = (await deps.metrics.agentRequests.get()).values;
    return {
      at,
      runsTotal: sum(runs.map((v) => v.value)),
      runsFailed: sum(runs.filter((v) => v.labels.conclusion === "failed").map((v) => v.value)),
      agentTotal: sum(agent.map((v) => v.value)),
      agentFailed: sum(agent.filter((v) => !AGENT_NON_ERROR_OUTCOMES.includes(String(v.labels.outcome))).map((v) => v.value)),
      stepBuckets: await histogramBuckets(deps.metrics.stepDuration),
    };
  }

  /** The newest snapshot at least one window old (or the oldest kept), pruning older ones. */
  function baseline(now: number): Snapshot {
    const cutoff = now - t.windowSeconds * 1000;
    while (snapshots.length > 1 && (snapshots[1]?.at ?? Infinity) <= cutoff) snapshots.shift();
    return snapshots[0] as Snapshot;
  }

  async function measure(now: number): Promise<Omit<AlertState, "since">[]> {
    const current = await snapshot(now);
    const base = baseline(now);
    snapshots.push(current);
    const windowText = `${Math.round(t.windowSeconds / 60)}m`;
    const results: Omit<AlertState, "since">[] = [];

    /** Failed ÷ total over the window, judged only with at least `minEvents` in it. */
    const errorRate = (alert: AlertName, noun: string, total: number, failed: number, threshold: number) => {
      const count = Math.max(0, total);
      const rate = count > 0 ? Math.max(0, failed) / count : 0;
      results.push({
        alert,
        value: rate,
        threshold,
        firing: count >= t.minEvents && rate > threshold,
        summary: `${percent(rate)} of ${count} ${noun} failed in the last ${windowText} (threshold ${percent(threshold)})`,
      });
    };
    errorRate("run_error_rate", "runs", current.runsTotal - base.runsTotal, current.runsFailed - base.runsFailed, t.runErrorRate);
    errorRate("agent_error_rate", "agent requests", current.agentTotal - base.agentTotal, current.agentFailed - base.agentFailed, t.agentErrorRate);

    const p95 = histogramQuantile(0.95, subtractBuckets(current.stepBuckets, base.stepBuckets)) ?? 0;
    results.push({
      alert: "step_latency_p95",
      value: p95,
      threshold: t.stepLatencyP95Seconds,
      firing: p95 > t.stepLatencyP95Seconds,
      summary: `p95 step duration ${Math.round(p95)} s over the last ${windowText} (threshold ${t.stepLatencyP95Seconds} s)`,
    });

    if (deps.sources?.breakerStates) {
      try {
        const breakers = await deps.sources.breakerStates();
        const open = Object.entries(breakers).filter(([, s]) => s === "open").map(([p]) => p).sort();
        results.push({
          alert: "circuit_breaker_open",
          value: open.length,
          threshold: 1,
          firing: open.length >= 1,
          summary: open.length > 0 ? `circuit breaker open for ${open.join(", ")}` : "all circuit breakers closed",
        });
      } catch (error) {
        log.warn({ err: error }, "breaker states unavailable for alert evaluation");
      }
    }

    if (deps.sources?.queueStats) {
      try {
        const stats = await deps.sources.queueStats();
        const age = Math.max(0, stats.oldestAgeMs) / 1000;
        results.push({
          alert: "queue_backlog_age",
          value: age,
          threshold: t.queueBacklogAgeSeconds,
          firing: age > t.queueBacklogAgeSeconds,
          summary: `oldest queued job waited ${Math.round(age)} s with ${stats.depth} waiting (threshold ${t.queueBacklogAgeSeconds} s)`,
        });
      } catch (error) {
        log.warn({ err: error }, "queue stats unavailable for alert evaluation");
      }
    }
    return results;
  }

  async function evaluateOnce(): Promise<AlertState[]> {
    const now = clock.now();
    for (const result of await measure(now)) {
      const previous = states.get(result.alert);
      const wasFiring = previous?.firing === true;
      const next: AlertState = {
        ...result,
        ...(result.firing ? { since: wasFiring && previous.since !== undefined ? previous.since : now } : {}),
      };
      states.set(result.alert, next);
      if (result.firing === wasFiring) continue;
      const transition = {
        alert: result.alert,
        state: result.firing ? ("firing" as const) : ("resolved" as const),
        value: result.value,
        threshold: result.threshold,
        summary: result.summary,
      };
      deps.metrics.alertsFiring.set({ alert: result.alert }, result.firing ? 1 : 0);
      const fields = { alert: transition.alert, state: transition.state, value: transition.value, threshold: transition.threshold };
      if (result.firing) log.warn(fields, `alert firing: ${result.summary}`);
      else log.info(fields, `alert resolved: ${result.summary}`);
      await notifier?.notify(transition);
    }
    lastEvaluatedAt = now;
    return [...states.values()];
  }

  const evaluator: AlertEvaluator = {
    evaluate() {
      const run = chain.then(evaluateOnce, evaluateOnce);
      chain = run.catch(() => undefined);
      return run;
    },
    firing() {
      return [...states.values()].filter((s) => s.firing);
    },
    start(intervalMs = 15_000) {
      if (timer) return;
      timer = setInterval(() => {
        evaluator.evaluate().catch((error: unknown) => log.error({ err: error }, "alert evaluation failed"));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await chain;
    },
    healthCheck() {
      return async () => ({
        ok: true,
        detail: {
          firing: evaluator.firing().map(({ alert, value, threshold, summary, since }) => ({
            alert,
            value,
            threshold,
            summary,
            ...(since === undefined ? {} : { since: new Date(since).toISOString() }),
          })),
          ...(lastEvaluatedAt === undefined ? {} : { evaluatedAt: new Date(lastEvaluatedAt).toISOString() }),
        },
      });
    },
  };
  return evaluator;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}
