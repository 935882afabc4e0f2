import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { Octokit } from "@octokit/rest";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { instrumentOctokit, statusClass } from "../../src/observability/instrument-octokit.ts";
import {
  injectTraceContext,
  otlpTracesUrl,
  setupTracing,
  withSpan,
  withTraceContext,
  type Tracing,
} from "../../src/observability/tracing.ts";

let tracing: Tracing | undefined;
const servers: Server[] = [];

afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function listen(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, Buffer.concat(chunks).toString("utf8"), res));
  });
  servers.push(server);
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

describe("setupTracing", () => {
  it("registers nothing without an endpoint or exporter", async () => {
    tracing = setupTracing({ env: {} });
    expect(tracing.enabled).toBe(false);
    await withSpan("noop", {}, (span) => {
      expect(span.isRecording()).toBe(false);
    });
    expect(injectTraceContext()).toEqual({});
  });

  it("nests spans in one trace and records errors", async () => {
    const exporter = new InMemorySpanExporter();
    tracing = setupTracing({ env: {}, exporter });
    await withSpan("webhook", { "github.event": "issues" }, async () => {
      await withSpan("run", {}, async () => {
        await withSpan("step", {}, async () => {
          await new Promise((r) => setTimeout(r, 1));
        });
        await expect(withSpan("model-call", {}, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
      });
    });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(["model-call", "run", "step", "webhook"]);
    const byName = new Map(spans.map((s) => [s.name, s]));
    const traceIds = new Set(spans.map((s) => s.spanContext().traceId));
    expect(traceIds.size).toBe(1);
    expect(byName.get("run")?.parentSpanContext?.spanId).toBe(byName.get("webhook")?.spanContext().spanId);
    expect(byName.get("step")?.parentSpanContext?.spanId).toBe(byName.get("run")?.spanContext().spanId);
    expect(byName.get("model-call")?.status.code).toBe(SpanStatusCode.ERROR);
    expect(byName.get("webhook")?.attributes["github.event"]).toBe("issues");
  });

  it("carries the context through a serialised carrier as the queue does", async () => {
    const exporter = new InMemorySpanExporter();
    tracing = setupTracing({ env: {}, exporter });
    let stored = "";
    await withSpan("webhook", {}, () => {
      // persisted with the run row, e.g. RunRecord.traceContext
      stored = JSON.stringify({ traceContext: injectTraceContext() });
    });
    expect(trace.getActiveSpan()).toBeUndefined();
    const restored = (JSON.parse(stored) as { traceContext: Record<string, string> }).traceContext;
    expect(restored.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // later, in a worker: a new async chain with no active span
    await new Promise((r) => setImmediate(r));
    await withTraceContext(restored, () => withSpan("run", {}, () => withSpan("step", {}, () => undefined)));
    const spans = exporter.getFinishedSpans();
    const webhook = spans.find((s) => s.name === "webhook");
    const run = spans.find((s) => s.name === "run");
    const step = spans.find((s) => s.name === "step");
    expect(run?.spanContext().traceId).toBe(webhook?.spanContext().traceId);
    expect(run?.parentSpanContext?.spanId).toBe(webhook?.spanContext().spanId);
    expect(step?.parentSpanContext?.spanId).toBe(run?.spanContext().spanId);
  });

  it("adds trace_id and span_id to log lines inside a span only (by default)", async () => {
    tracing = setupTracing({ env: {}, exporter: new InMemorySpanExporter() });
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
        cb();
      },
    });
    const log = createLogger({ destination }); // traceMixin is the default mixin
    let ids: { traceId: string; spanId: string } | undefined;
    await withSpan("work", {}, (span) => {
      ids = span.spanContext();
      log.info({ token: "ghp_abcdefghijklmnopqrstuvwxyz0123456789" }, "inside");
    });
    log.info("outside");
    expect(lines[0]).toMatchObject({ msg: "inside", trace_id: ids?.traceId, span_id: ids?.spanId, token: "[REDACTED]" });
    expect(lines[1]?.msg).toBe("outside");
    expect(lines[1]).not.toHaveProperty("trace_id");
  });

  it("exports over OTLP/HTTP to the configured endpoint", async () => {
    const received: { path: string | undefined; body: string }[] = [];
    const endpoint = await listen((req, body, res) => {
      received.push({ path: req.url, body });
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    tracing = setupTracing({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, serviceName: "octoflow-test" });
    expect(tracing.enabled).toBe(true);
    await withSpan("exported-span", { "octoflow.workflow": "bug-fix" }, () => undefined);
    await tracing.shutdown();
    expect(received).toHaveLength(1);
    expect(received[0]?.path).toBe("/v1/traces");
    expect(received[0]?.body).toContain("exported-span");
    expect(received[0]?.body).toContain("octoflow-test");
  });

  it("reports a collector that rejects spans as a warning in the app's log", async () => {
    const endpoint = await listen((_req, _body, res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "bad request" }));
    });
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
        cb();
      },
    });
    tracing = setupTracing({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, log: createLogger({ destination }) });
    await withSpan("rejected-span", {}, () => undefined);
    await tracing.forceFlush();
    expect(lines.some((l) => l.component === "opentelemetry" && l.level === 40)).toBe(true);
  });

  it("builds the traces URL from a base endpoint", () => {
    expect(otlpTracesUrl("http://collector:4318")).toBe("http://collector:4318/v1/traces");
    expect(otlpTracesUrl("http://collector:4318/")).toBe("http://collector:4318/v1/traces");
    expect(otlpTracesUrl("http://c/v1/traces")).toBe("http://c/v1/traces");
  });
});

const quietLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describe("instrumentOctokit", () => {
  it("creates a client span per GitHub request and records metrics", async () => {
    const exporter = new InMemorySpanExporter();
    tracing = setupTracing({ env: {}, exporter });
    const metrics = createMetrics({ defaults: false });
    const seen: string[] = [];
    const baseUrl = await listen((req, _body, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === "/repos/acme/widgets/issues/7") {
        res.writeHead(200, { "content-type": "application/json", "x-ratelimit-remaining": "4321", "x-ratelimit-resource": "core" });
        res.end(JSON.stringify({ number: 7, title: "Widget" }));
      } else {
        res.writeHead(404, { "content-type": "application/json", "x-ratelimit-remaining": "4320", "x-ratelimit-resource": "core" });
        res.end(JSON.stringify({ message: "Not Found" }));
      }
    });
    const octokit = instrumentOctokit(instrumentOctokit(new Octokit({ baseUrl, log: quietLog }), { metrics }), { metrics });

    await withSpan("run", {}, async () => {
      const issue = await octokit.rest.issues.get({ owner: "acme", repo: "widgets", issue_number: 7 });
      expect(issue.data.title).toBe("Widget");
      await expect(octokit.rest.issues.get({ owner: "acme", repo: "widgets", issue_number: 8 })).rejects.toMatchObject({ status: 404 });
    });

    expect(seen).toEqual(["GET /repos/acme/widgets/issues/7", "GET /repos/acme/widgets/issues/8"]);
    const spans = exporter.getFinishedSpans().filter((s) => s.name.startsWith("GitHub "));
    expect(spans).toHaveLength(2); // instrumenting twice did not double the spans
    const [ok, missing] = spans;
    const run = exporter.getFinishedSpans().find((s) => s.name === "run");
    expect(ok?.name).toBe("GitHub GET /repos/{owner}/{repo}/issues/{issue_number}");
    expect(ok?.kind).toBe(SpanKind.CLIENT);
    expect(ok?.attributes).toMatchObject({ "http.request.method": "GET", "http.response.status_code": 200 });
    expect(ok?.parentSpanContext?.spanId).toBe(run?.spanContext().spanId);
    expect(missing?.attributes["http.response.status_code"]).toBe(404);
    expect(missing?.status.code).toBe(SpanStatusCode.ERROR);

    const requests = await metrics.githubRequests.get();
    expect(requests.values.map((v) => [v.labels.method, v.labels.status, v.value]).sort()).toEqual([
      ["GET", "2xx", 1],
      ["GET", "4xx", 1],
    ]);
    const remaining = await metrics.githubRateLimitRemaining.get();
    expect(remaining.values).toEqual([expect.objectContaining({ labels: { resource: "core" }, value: 4320 })]);
  });

  it("classifies statuses", () => {
    expect(statusClass(201)).toBe("2xx");
    expect(statusClass(502)).toBe("5xx");
    expect(statusClass(undefined)).toBe("error");
  });
});
