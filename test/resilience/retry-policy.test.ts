import { APICallError } from "ai";
import { describe, expect, it } from "vitest";
import { ExternalServiceError } from "../../src/errors/external-service-error.ts";
import { NonRetriableError } from "../../src/errors/non-retriable-error.ts";
import { RetryAfterError } from "../../src/errors/retry-after-error.ts";
import { InvalidOutputError } from "../../src/errors/invalid-output-error.ts";
import { StepTimeoutError } from "../../src/errors/step-timeout-error.ts";
import { ProviderUnavailableError } from "../../src/errors/provider-unavailable-error.ts";
import { classifyError, isRetriable, isStepRetriable } from "../../src/resilience/classify-error.ts";
import { HttpResponseError } from "../../src/errors/http-response-error.ts";
import { parseRetryAfter } from "../../src/resilience/retry-after.ts";
import { RetriesExhaustedError } from "../../src/errors/retries-exhausted-error.ts";
import { DEFAULT_BACKOFF } from "../../src/resilience/backoff.ts";
import { DEFAULT_RETRY_POLICY, MAX_RETRY_AFTER_MS, retryDelay, withRetry } from "../../src/resilience/retry-policy.ts";

const now = Date.parse("2026-01-01T00:00:00Z");

describe("parseRetryAfter", () => {
  it("reads retry-after-ms first, then seconds, then an HTTP date", () => {
    expect(parseRetryAfter({ "retry-after-ms": "250.4", "retry-after": "9" }, now)).toBe(250);
    expect(parseRetryAfter({ "Retry-After": "3" }, now)).toBe(3_000);
    expect(parseRetryAfter({ "retry-after": "Thu, 01 Jan 2026 00:00:07 GMT" }, now)).toBe(7_000);
    expect(parseRetryAfter({ "retry-after": "Wed, 31 Dec 2025 00:00:00 GMT" }, now)).toBe(0);
  });
  it("ignores garbage", () => {
    expect(parseRetryAfter({ "retry-after": "soon" }, now)).toBeUndefined();
    expect(parseRetryAfter({ "retry-after-ms": "-5" }, now)).toBeUndefined();
    expect(parseRetryAfter({}, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe("classifyError", () => {
  const http = (status: number, body = "", headers: Record<string, string> = {}) => new HttpResponseError(status, headers, body);
  it.each([408, 409, 429, 500, 502, 503, 504, 529])("%i is retriable", (status) => {
    const error = classifyError(http(status), "openai", now);
    expect(error).toBeInstanceOf(ExternalServiceError);
    expect((error as ExternalServiceError).retriable).toBe(true);
    expect((error as ExternalServiceError).status).toBe(status);
  });
  it.each([400, 401, 403, 404, 422])("%i is not retriable", (status) => {
    const error = classifyError(http(status), "anthropic", now);
    expect(error).toBeInstanceOf(NonRetriableError);
    expect((error.cause as ExternalServiceError).status).toBe(status);
  });
  it("a retry hint becomes a RetryAfterError", () => {
    const error = classifyError(http(429, "{}", { "retry-after": "4" }), "openai", now);
    expect(error).toBeInstanceOf(RetryAfterError);
    expect((error as RetryAfterError).retryAfterMs).toBe(4_000);
  });
  it("quota exhausted is not retriable even with a hint", () => {
    const body = JSON.stringify({ error: { message: "You exceeded your current quota", type: "insufficient_quota", code: "insufficient_quota" } });
    expect(classifyError(http(429, body, { "retry-after": "1" }), "openai", now)).toBeInstanceOf(NonRetriableError);
  });
  it("understands the AI SDK's APICallError and never echoes secrets or HTML", () => {
    const error = new APICallError({
      message: "bad",
      url: "https://api.openai.com/v1/responses",
      requestBodyValues: {},
      statusCode: 400,
      responseHeaders: {},
      responseBody: JSON.stringify({ error: { message: "token Bearer sk-proj-abcdefghijklmnopqrstuvwxyz is odd" } }),
    });
    const classified = classifyError(error, "openai", now);
    expect(classified.message).not.toContain("sk-proj-abcdefghijklmnopqrstuvwxyz");
    expect(classifyError(http(502, "<html><body>Bad gateway</body></html>"), "openai", now).message).toBe("openai answered HTTP 502");
  });
  it("network errors are retriable", () => {
    const error = new TypeError("fetch failed", { cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }) });
    const classified = classifyError(error, "openai", now) as ExternalServiceError;
    expect(classified.retriable).toBe(true);
    expect(classified.message).toBe("openai connection failed (ECONNRESET)");
    // without a code the message is quoted: never a credential inside it
    const bare = classifyError(new TypeError("network error at /v1?token=sk-abc123def456"), "openai-compatible", now);
    expect(bare).toMatchObject({ name: "ExternalServiceError", retriable: true });
    expect(bare.message).not.toContain("sk-abc123def456");
  });
});

describe("one classification for both retry layers", () => {
  const exhausted = new RetriesExhaustedError("The model provider openai failed after 4 attempts: HTTP 500", { service: "openai", attempts: 4, last: new ExternalServiceError("HTTP 500", { service: "openai", status: 500, retriable: true }) });
  it.each([
    ["a transient service failure", new ExternalServiceError("HTTP 502", { service: "openai", retriable: true }), true, true],
    ["a retry-after hint", new RetryAfterError("429", 1_000), true, true],
    ["a call retried to exhaustion", exhausted, false, false],
    ["a bad request", new NonRetriableError("400"), false, false],
    ["an open breaker", new ProviderUnavailableError("openai"), false, false],
    ["a step timeout", new StepTimeoutError("write", 60_000), false, true],
    ["an answer in the wrong format", new InvalidOutputError("not JSON"), false, true],
    ["an unexpected error", new TypeError("x is undefined"), false, true],
  ])("%s: call retry %s, step retry %s", (_what, error, call, step) => {
    expect(isRetriable(error)).toBe(call);
    expect(isStepRetriable(error)).toBe(step);
  });
  it("an exhausted call keeps the status and the server's last hint for a later, durable retry", () => {
    const hinted = new RetriesExhaustedError("GitHub failed after 1 attempt", { service: "github", attempts: 1, last: new RetryAfterError("rate limit", 3_600_000, { cause: Object.assign(new Error("403"), { status: 403 }) }) });
    expect(hinted).toMatchObject({ status: 403, retryAfterMs: 3_600_000, retriable: true, attempts: 1 });
    expect(hinted).toBeInstanceOf(ExternalServiceError);
  });
});

describe("withRetry", () => {
  const retriable = () => new ExternalServiceError("boom", { service: "x", retriable: true });
  const base = { service: "x", label: "The service x" };
  it("retries retriable errors with recorded delays, then says how many attempts failed", async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const sleep = async (ms: number) => {
      sleeps.push(ms);
    };
    const error = await withRetry(
      async () => {
        calls += 1;
        throw retriable();
      },
      { ...base, policy: { ...DEFAULT_RETRY_POLICY, retries: 3, baseDelayMs: 100 }, sleep, random: () => 1 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(error).toMatchObject({ message: "The service x failed after 4 attempts: boom", attempts: 4, service: "x", retriable: true });
    expect((error as Error).cause).toBeInstanceOf(ExternalServiceError);
    expect(calls).toBe(4);
    expect(sleeps).toEqual([100, 200, 400]);
  });
  it("an exhausted call is not retried by an outer retry loop", async () => {
    let inner = 0;
    const sleep = async () => undefined;
    const policy = { ...DEFAULT_RETRY_POLICY, retries: 2 };
    const nested = () => withRetry(async () => { inner += 1; throw retriable(); }, { ...base, policy, sleep });
    await expect(withRetry(nested, { ...base, policy, sleep })).rejects.toBeInstanceOf(RetriesExhaustedError);
    expect(inner).toBe(3);
  });
  it("does not retry non-retriable errors and gives up on retry-after hints beyond the cap", async () => {
    let calls = 0;
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
    };
    await expect(withRetry(async () => { calls += 1; throw new NonRetriableError("no"); }, { ...base, policy: DEFAULT_RETRY_POLICY, sleep })).rejects.toBeInstanceOf(NonRetriableError);
    const error = await withRetry(async () => { calls += 1; throw new RetryAfterError("later", 3_600_000); }, { ...base, policy: DEFAULT_RETRY_POLICY, sleep }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "RetriesExhaustedError", retryAfterMs: 3_600_000, message: "The service x failed after 1 attempt (it asked to wait 60 min, longer than the 60 s Octoflow waits): later" });
    // a hint within the cap is waited for exactly
    await expect(withRetry(async (attempt) => { calls += 1; if (attempt === 1) throw new RetryAfterError("soon", MAX_RETRY_AFTER_MS); return "ok"; }, { ...base, policy: DEFAULT_RETRY_POLICY, sleep })).resolves.toBe("ok");
    expect(calls).toBe(4);
    expect(sleeps).toEqual([MAX_RETRY_AFTER_MS]);
  });
  it("stops once the total wait would pass maxTotalDelayMs", async () => {
    let calls = 0;
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
    };
    const policy = { ...DEFAULT_RETRY_POLICY, retries: 5, maxTotalDelayMs: 100_000 };
    await expect(withRetry(async () => { calls += 1; throw new RetryAfterError("slow down", 40_000); }, { ...base, policy, sleep })).rejects.toMatchObject({ name: "RetriesExhaustedError", attempts: 3 });
    expect(sleeps).toEqual([40_000, 40_000]);
    expect(calls).toBe(3);
  });
  it("a call that may have been processed is not sent again (retryIf), and says so", async () => {
    let calls = 0;
    const sleep = async () => undefined;
    const error = await withRetry(async () => { calls += 1; throw retriable(); }, { ...base, policy: DEFAULT_RETRY_POLICY, sleep, retryIf: () => false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "RetriesExhaustedError", message: "The service x failed after 1 attempt (not sent again: the request may already have been processed): boom" });
    expect(calls).toBe(1);
  });
  it("onRetry hears of each decided retry with the attempt count, before the delay", async () => {
    const heard: string[] = [];
    const sleep = async (ms: number) => {
      heard.push(`sleep ${ms}`);
    };
    await withRetry(async (attempt) => { if (attempt < 3) throw retriable(); return attempt; }, { ...base, policy: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 10 }, sleep, random: () => 1, onRetry: (i) => heard.push(`retry ${i.attempt + 1}/${i.maxAttempts}`) });
    expect(heard).toEqual(["retry 2/4", "sleep 10", "retry 3/4", "sleep 20"]);
  });
  it("retryDelay: backoff capped and jittered between half and full; a hint replaces it unless over the cap", () => {
    const backoff = { ...DEFAULT_BACKOFF, baseMs: 1_000, maxMs: 5_000 };
    expect(retryDelay(1, new Error(), backoff, MAX_RETRY_AFTER_MS, () => 0)).toBe(500);
    expect(retryDelay(1, new Error(), backoff, MAX_RETRY_AFTER_MS, () => 0.999999)).toBe(1_000);
    expect(retryDelay(10, new Error(), backoff, MAX_RETRY_AFTER_MS, () => 1)).toBe(5_000);
    expect(retryDelay(3, new RetryAfterError("429", 7_000), backoff, MAX_RETRY_AFTER_MS)).toBe(7_000);
    expect(retryDelay(1, new RetryAfterError("429", MAX_RETRY_AFTER_MS + 1), backoff, MAX_RETRY_AFTER_MS)).toBeUndefined();
  });
  it("cancellation during a delay stops at once", async () => {
    const controller = new AbortController();
    let calls = 0;
    const sleep = (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((_resolve, reject) => {
        controller.abort(new Error("stop"));
        reject(signal?.reason);
      });
    await expect(withRetry(async () => { calls += 1; throw retriable(); }, { ...base, policy: DEFAULT_RETRY_POLICY, sleep, signal: controller.signal })).rejects.toThrow("stop");
    expect(calls).toBe(1);
  });
});
