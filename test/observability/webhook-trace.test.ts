/**
 * One trace from a signed webhook delivery to the last GitHub request of the run it started,
 * across a serialised queue hop, with Probot's own Octokit (throttling + retry plugins) talking
 * to a local GitHub fake on 127.0.0.1.
 */
import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { sign } from "@octokit/webhooks-methods";
import { Probot, ProbotOctokit } from "probot";
import { pino } from "pino";
import { createMetrics } from "../../src/observability/metrics.ts";
import { octokitInstrumentation } from "../../src/observability/instrument-octokit.ts";
import { traceWebhooks } from "../../src/observability/trace-webhooks.ts";
import { injectTraceContext, setupTracing, withSpan, withTraceContext, type Tracing } from "../../src/observability/tracing.ts";

let tracing: Tracing | undefined;
let server: Server | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
});

describe("webhook → queue → run → GitHub", () => {
  it("is one trace", async () => {
    const exporter = new InMemorySpanExporter();
    tracing = setupTracing({ env: {}, exporter });
    const metrics = createMetrics({ defaults: false });

    const requests: string[] = [];
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      req.resume();
      req.on("end", () => {
        const headers = { "content-type": "application/json", "x-ratelimit-remaining": "4999", "x-ratelimit-resource": "core" };
        if (req.method === "POST" && req.url === "/app/installations/99/access_tokens") {
          res.writeHead(201, headers);
          res.end(JSON.stringify({ token: "ghs_faketokenfaketokenfaketoken00", expires_at: new Date(Date.now() + 3_600_000).toISOString() }));
        } else if (req.method === "GET" && req.url === "/repos/acme/widgets/issues/7") {
          res.writeHead(200, headers);
          res.end(JSON.stringify({ number: 7, title: "Add widgets" }));
        } else if (req.method === "POST" && req.url === "/repos/acme/widgets/issues/7/comments") {
          res.writeHead(201, { ...headers, "x-ratelimit-remaining": "4997" });
          res.end(JSON.stringify({ id: 1 }));
        } else {
          res.writeHead(404, headers);
          res.end(JSON.stringify({ message: "Not Found" }));
        }
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs1", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    const probot = new Probot({
      appId: 12345,
      privateKey,
      secret: "webhook-secret",
      baseUrl,
      log: pino({ level: "silent" }),
      Octokit: ProbotOctokit.plugin(octokitInstrumentation({ metrics })),
    });
    await probot.auth(); // Probot 14 builds app.webhooks lazily; the app function runs after this
    traceWebhooks(probot.webhooks);

    // the GitHub edge: persist the run with its trace context and enqueue it (here: a JSON string)
    const queue: string[] = [];
    probot.on("issues.labeled", async (context) => {
      queue.push(JSON.stringify({ runId: "r1", installationId: context.payload.installation?.id, traceContext: injectTraceContext() }));
    });

    const payload = JSON.stringify({
      action: "labeled",
      label: { name: "octoflow" },
      issue: { number: 7, title: "Add widgets" },
      repository: { name: "widgets", full_name: "acme/widgets", owner: { login: "acme" } },
      installation: { id: 99 },
      sender: { login: "octocat" },
    });
    await probot.webhooks.verifyAndReceive({ id: "delivery-1", name: "issues", payload, signature: await sign("webhook-secret", payload) });
    expect(queue).toHaveLength(1);

    // a worker, later, in another async chain
    const job = JSON.parse(queue[0] ?? "{}") as { installationId: number; traceContext: Record<string, string> };
    await withTraceContext(job.traceContext, () =>
      withSpan("run feature-development", { "octoflow.run_id": "r1" }, () =>
        withSpan("step generate", { "octoflow.step": "generate" }, async () => {
          const octokit = await probot.auth(job.installationId);
          await octokit.rest.issues.get({ owner: "acme", repo: "widgets", issue_number: 7 });
          await octokit.rest.issues.createComment({ owner: "acme", repo: "widgets", issue_number: 7, body: "done" });
        }),
      ),
    );

    expect(requests).toEqual(["POST /app/installations/99/access_tokens", "GET /repos/acme/widgets/issues/7", "POST /repos/acme/widgets/issues/7/comments"]);
    const spans = exporter.getFinishedSpans();
    const webhook = spans.find((s) => s.name === "webhook issues");
    const run = spans.find((s) => s.name === "run feature-development");
    const step = spans.find((s) => s.name === "step generate");
    const github = spans.filter((s) => s.name.startsWith("GitHub "));
    expect(webhook?.kind).toBe(SpanKind.SERVER);
    expect(webhook?.parentSpanContext).toBeUndefined();
    expect(webhook?.attributes).toMatchObject({ "github.event": "issues", "github.delivery_id": "delivery-1" });
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(new Set([webhook?.spanContext().traceId]));
    expect(run?.parentSpanContext?.spanId).toBe(webhook?.spanContext().spanId);
    expect(step?.parentSpanContext?.spanId).toBe(run?.spanContext().spanId);
    expect(github.map((s) => s.name)).toEqual([
      "GitHub POST /app/installations/{installation_id}/access_tokens",
      "GitHub GET /repos/{owner}/{repo}/issues/{issue_number}",
      "GitHub POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    ]);
    const last = github.at(-1);
    expect(last?.attributes["http.response.status_code"]).toBe(201);
    expect(last?.spanContext().traceId).toBe(webhook?.spanContext().traceId);
    expect((await metrics.githubRequests.get()).values.find((v) => v.labels.method === "POST")?.value).toBe(2);
    expect((await metrics.githubRateLimitRemaining.get()).values[0]?.value).toBe(4997);
  });
});
