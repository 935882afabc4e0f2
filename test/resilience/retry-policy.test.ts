import { APICallError } from "ai";
import { describe, expect, it } from "vitest";
import { ExternalServiceError } from "../../src/errors/external-service-error.ts";
import { NonRetriableError } from "../../src/errors/non-retriable-error.ts";
import { RetryAfterError } from "../../src/errors/retry-after-error.ts";
import { classifyError } from "../../src/resilience/classify-error.ts";
import { HttpResponseError } from "../../src/errors/http-response-error.ts";
import { parseRetryAfter } from "../../src/resilience/retry-after.ts";
import { backoffDelay, DEFAULT_RETRY_POLICY, withRetry } from "../../src/resilience/retry-policy.ts";

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

describe("withRetry", () => {
  const retriable = () => new ExternalServiceError("boom", { service: "x", retriable: true });
  it("retries retriable errors with recorded delays and stops at the limit", async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const sleep = async (ms: number) => {
      sleeps.push(ms);
    };
    await expect(
      withRetry(
        async () => {
          calls += 1;
          throw retriable();
        },
        { policy: { ...DEFAULT_RETRY_POLICY, retries: 3, baseDelayMs: 100 }, sleep, random: () => 1 },
      ),
    ).rejects.toMatchObject({ message: "boom" });
    expect(calls).toBe(4);
    expect(sleeps).toEqual([100, 200, 400]);
  });
  it("does not retry non-retriable errors and gives up on absurd retry-after hints", async () => {
    let calls = 0;
    const sleep = async () => undefined;
    await expect(withRetry(async () => { calls += 1; throw new NonRetriableError("no"); }, { policy: DEFAULT_RETRY_POLICY, sleep })).rejects.toBeInstanceOf(NonRetriableError);
    await expect(withRetry(async () => { calls += 1; throw new RetryAfterError("later", 3_600_000); }, { policy: DEFAULT_RETRY_POLICY, sleep })).rejects.toBeInstanceOf(RetryAfterError);
    expect(calls).toBe(2);
  });
  it("backoff is capped and jittered between half and full", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1_000, maxDelayMs: 5_000 };
    expect(backoffDelay(1, new Error(), policy, () => 0)).toBe(500);
    expect(backoffDelay(1, new Error(), policy, () => 0.999999)).toBe(1_000);
    expect(backoffDelay(10, new Error(), policy, () => 1)).toBe(5_000);
  });
  it("cancellation during a delay stops at once", async () => {
    const controller = new AbortController();
    let calls = 0;
    const sleep = (_ms: number, signal?: AbortSignal) =>
      new Promise<void>((_resolve, reject) => {
        controller.abort(new Error("stop"));
        reject(signal?.reason);
      });
    await expect(withRetry(async () => { calls += 1; throw retriable(); }, { policy: DEFAULT_RETRY_POLICY, sleep, signal: controller.signal })).rejects.toThrow("stop");
    expect(calls).toBe(1);
  });
});
