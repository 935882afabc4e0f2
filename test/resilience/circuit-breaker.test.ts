/**
 * The per-provider breaker through `createProviderResilience`, on fake timers: opossum's reset
 * timer is a real `setTimeout`, so the half-open transition is driven by advancing the timers, not
 * by waiting — nothing here depends on how fast the machine is.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ExternalServiceError } from "../../src/errors/external-service-error.ts";
import { breakerStatesFromGauge, createMetrics } from "../../src/observability/metrics.ts";
import { createProviderResilience, type ProviderResilience } from "../../src/resilience/provider-resilience.ts";

const RESET_MS = 30_000;
const unavailable = () => new ExternalServiceError("openai answered HTTP 503", { service: "openai", status: 503, retriable: true });

let resilience: ProviderResilience | undefined;
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  resilience?.close();
  resilience = undefined;
  vi.useRealTimers();
});

function setup() {
  const metrics = createMetrics({ defaults: false });
  resilience = createProviderResilience({
    clock: { now: () => Date.now(), sleep: async () => undefined },
    metrics,
    retry: { retries: 0 },
    breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: RESET_MS, rollingWindowMs: 60_000, rollingBuckets: 1 },
    limits: { openai: { requestsPerMinute: 60_000 } },
  });
  const r = resilience;
  let calls = 0;
  const run = (outcome: () => Promise<string>, signal = new AbortController().signal) =>
    r.run(
      "openai",
      async () => {
        calls += 1;
        return outcome();
      },
      { cost: { requests: 1, tokens: 0 }, signal },
    );
  const open = async () => {
    for (let i = 0; i < 2; i++) await expect(run(() => Promise.reject(unavailable()))).rejects.toMatchObject({ name: "RetriesExhaustedError", attempts: 1 });
    expect(r.breakerStates()).toEqual({ openai: "open" });
  };
  return { metrics, resilience: r, run, open, calls: () => calls };
}

describe("circuit breaker", () => {
  it("opens on failures, fails fast without calling, probes half-open and closes on success", async () => {
    const { metrics, resilience, run, open, calls } = setup();
    await open();
    expect(await breakerStatesFromGauge(metrics)).toEqual({ openai: "open" });
    await expect(run(async () => "never")).rejects.toMatchObject({ name: "ProviderUnavailableError", message: expect.stringContaining('"openai" is unavailable') });
    expect(calls()).toBe(2);

    await vi.advanceTimersByTimeAsync(RESET_MS - 1);
    expect(resilience.breakerStates().openai).toBe("open");
    await vi.advanceTimersByTimeAsync(1);
    expect(resilience.breakerStates().openai).toBe("half_open");
    expect(await breakerStatesFromGauge(metrics)).toEqual({ openai: "half_open" });

    expect(await run(async () => "recovered")).toBe("recovered");
    expect(resilience.breakerStates()).toEqual({ openai: "closed" });
    expect(await breakerStatesFromGauge(metrics)).toEqual({ openai: "closed" });
  });

  it("a cancelled half-open probe proves nothing: the breaker opens again instead of closing", async () => {
    const { resilience, run, open } = setup();
    await open();
    await vi.advanceTimersByTimeAsync(RESET_MS);
    expect(resilience.breakerStates().openai).toBe("half_open");

    const controller = new AbortController();
    const probe = run(() => {
      controller.abort(new Error("the run was cancelled"));
      return Promise.reject(new DOMException("This operation was aborted", "AbortError"));
    }, controller.signal);
    await expect(probe).rejects.toThrow("the run was cancelled");
    expect(resilience.breakerStates().openai).toBe("open");

    await vi.advanceTimersByTimeAsync(RESET_MS);
    expect(resilience.breakerStates().openai).toBe("half_open");
    expect(await run(async () => "ok")).toBe("ok");
    expect(resilience.breakerStates().openai).toBe("closed");
  });

  it("cancelled calls and client errors never open a closed breaker", async () => {
    const { resilience, run } = setup();
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      controller.abort(new Error("step timed out"));
      await expect(run(() => Promise.reject(new Error("socket closed")), controller.signal)).rejects.toThrow();
      await expect(run(() => Promise.reject(new ExternalServiceError("HTTP 400", { service: "openai", status: 400, retriable: false })))).rejects.toThrow("HTTP 400");
    }
    expect(resilience.breakerStates()).toEqual({ openai: "closed" });
  });
});
