/**
 * Malformed deliveries at the edge: signed requests through the real Probot HTTP middleware.
 * Every real example of @octokit/webhooks-examples is accepted; mutations of the fields handlers
 * read (deleted, wrong type, out of range) are answered 4xx (or 2xx when the field is one the
 * handler tolerates), never 5xx and never a run on junk; a failing handler's log line carries the
 * delivery id and the error, not the payload.
 */
import { createServer, type Server } from "node:http";
import { Writable } from "node:stream";
import { sign } from "@octokit/webhooks-methods";
import { createNodeMiddleware } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, octoflowApp, type Runtime } from "../../src/app.ts";
import { loadEnv } from "../../src/config/env.ts";
import { validateDelivery } from "../../src/github/validate-delivery.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import type { RunStore } from "../../src/workflows/ports.ts";
import { installRepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { createTestProbot, examplePayloads, retarget, scriptedAgents, testPrivateKey, usage, WEBHOOK_SECRET } from "./app-harness.ts";

type Json = Record<string, unknown>;

let gh: GitHubFake;
let store: RunStore;
let runtime: Runtime;
let server: Server;
let url: string;
const logLines: string[] = [];
let deliveries = 0;

async function post(event: string, body: string, id = `malformed-${++deliveries}`): Promise<{ status: number; text: string }> {
  const headers = { "content-type": "application/json", "x-github-event": event, "x-github-delivery": id, "x-hub-signature-256": await sign(WEBHOOK_SECRET, body) };
  const response = await fetch(`${url}/api/github/webhooks`, { method: "POST", headers, body });
  return { status: response.status, text: await response.text() };
}

beforeAll(async () => {
  gh = await startGitHubFake();
  installRepoModel(gh, { owner: "octo", repo: "app", files: { "README.md": "# app\n" }, permissions: { alice: "write" } });
  store = createMemoryRunStore();
  const log = createLogger({
    level: "info",
    format: "json",
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        done();
      },
    }),
  });
  const env = loadEnv({ NODE_ENV: "test", APP_ID: "123", PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET, LOG_LEVEL: "info" });
  runtime = await createRuntime(env, log, {
    store,
    agents: scriptedAgents(() => ({ text: "done", usage, costUsd: 0 })),
    metrics: createMetrics({ defaults: false }),
    progressIntervalMs: 1000,
    startWorkers: false,
  });
  // Probot logs with the app's logger, as src/main.ts sets it up
  const probot = createTestProbot(gh.url, { log });
  const middleware = await createNodeMiddleware(octoflowApp(runtime), { probot });
  server = createServer((req, res) => {
    void middleware(req, res, () => {
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  for (const close of [...(runtime?.closers ?? [])].reverse()) await close();
  await gh?.close();
});

async function allExamples(): Promise<{ event: string; payload: Json }[]> {
  const { default: index } = (await import("@octokit/webhooks-examples/api.github.com/index.json", { with: { type: "json" } })) as { default: { name: string; examples: Json[] }[] };
  return index.flatMap((entry) => entry.examples.map((example) => ({ event: entry.name, payload: structuredClone(example) })));
}

describe("validateDelivery (pure)", () => {
  it("accepts every real example payload of every event", async () => {
    const examples = await allExamples();
    expect(examples.length).toBeGreaterThan(300);
    const refused = examples.map(({ event, payload }) => ({ event, action: payload.action, verdict: validateDelivery(event, payload) })).filter((r) => !r.verdict.ok);
    expect(refused).toEqual([]);
  });

  it("refuses junk bodies and event names, and names the field", () => {
    for (const body of [null, 42, "", "text", [], true]) expect(validateDelivery("issues", body)).toMatchObject({ ok: false, status: 400 });
    for (const name of ["__proto__", "constructor", "hasOwnProperty", "", "Issues", "a".repeat(100), 42]) expect(validateDelivery(name, {})).toMatchObject({ ok: false, status: 400 });
    expect(validateDelivery("issues", { action: "labeled", issue: { number: -7 } })).toMatchObject({ ok: false, status: 422, reason: expect.stringMatching(/^issues\.labeled: /) });
    expect(validateDelivery("push", { ref: "refs/heads/main" })).toEqual({ ok: true });
    // unhandled events too: Probot authenticates every delivery naming an installation (found by bench/fault-suite.ts)
    for (const installation of [{ id: "one" }, { id: -1 }, 42, {}]) {
      expect(validateDelivery("check_run", { action: "completed", installation })).toMatchObject({ ok: false, status: 422, reason: "check_run: installation.id: expected a positive whole number" });
    }
  });
});

/** Paths that handlers read, mutated one at a time. */
const USED_PATHS = [
  "action",
  "sender",
  "sender.login",
  "repository",
  "repository.name",
  "repository.owner.login",
  "repository.default_branch",
  "installation",
  "installation.id",
  "issue",
  "issue.number",
  "issue.title",
  "issue.body",
  "issue.pull_request",
  "label",
  "label.name",
  "comment",
  "comment.body",
  "comment.id",
  "comment.user",
  "pull_request",
  "pull_request.number",
  "pull_request.title",
  "pull_request.draft",
  "pull_request.head",
  "pull_request.head.sha",
  "pull_request.base.ref",
  "pull_request.changed_files",
  "check_run",
  "check_run.external_id",
  "requested_action",
  "requested_action.identifier",
];
const DELETE = Symbol("delete");
const VALUES: unknown[] = [DELETE, 42, -7, "one", null, "", {}, [], true, 1.5];

function mutate(payload: Json, path: string, value: unknown): Json | undefined {
  const copy = structuredClone(payload);
  const keys = path.split(".");
  let node: Json = copy;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (!next || typeof next !== "object") return undefined;
    node = next as Json;
  }
  const last = keys.at(-1) as string;
  if (!(last in node)) return undefined;
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return copy;
}

const HANDLED = new Set(["issues.labeled", "issue_comment.created", "pull_request.opened", "pull_request.reopened", "pull_request.synchronize", "pull_request.ready_for_review", "pull_request.labeled", "check_run.requested_action", "check_run.rerequested"]);

describe("signed deliveries through the real server", { timeout: 240_000 }, () => {
  it("every real example is accepted (2xx)", async () => {
    const statuses: string[] = [];
    for (const { event, payload } of await allExamples()) {
      const { status, text } = await post(event, JSON.stringify(retarget(payload)));
      if (status >= 300) statuses.push(`${event}.${String(payload.action)}: ${status} ${text}`);
    }
    expect(statuses).toEqual([]);
  });

  it("malformed bodies and event names: 4xx with the reason, never 5xx", async () => {
    const issue = (await examplePayloads("issues")).find((p) => p.action === "labeled") as Json;
    for (const body of ["null", '""', "42", "[]", "true"]) {
      const answer = await post("issues", body);
      expect(answer.status, body).toBe(400);
      expect(answer.text).toContain("not a JSON object");
    }
    expect((await post("issues", "{not json")).status).toBe(400);
    const proto = await post("__proto__", JSON.stringify(issue));
    expect(proto.status).toBe(400);
    expect(proto.text).toContain("X-GitHub-Event");
  });

  it("mutations of the fields handlers read: each 4xx or 2xx, none 5xx, and no run on junk", async () => {
    const examples = (await allExamples()).filter(({ event, payload }) => HANDLED.has(`${event}.${String(payload.action)}`));
    expect(examples.length).toBeGreaterThan(10);
    const answers = new Map<number, number>();
    const fiveHundreds: string[] = [];
    let tried = 0;
    for (const { event, payload } of examples) {
      const base = retarget(payload);
      for (const path of USED_PATHS) {
        for (const value of VALUES) {
          const mutated = mutate(base, path, value);
          if (!mutated) continue;
          tried++;
          const { status, text } = await post(event, JSON.stringify(mutated));
          answers.set(status, (answers.get(status) ?? 0) + 1);
          if (status >= 500) fiveHundreds.push(`${event}.${String(payload.action)} ${path}=${String(value === DELETE ? "(deleted)" : JSON.stringify(value))}: ${status} ${text}`);
        }
      }
    }
    expect(fiveHundreds).toEqual([]);
    expect(tried).toBeGreaterThan(500);
    // both outcomes happen: junk refused, tolerated variations (a null body, no installation) accepted
    expect(answers.get(422) ?? 0).toBeGreaterThan(100);
    expect([...answers.keys()].filter((s) => s >= 200 && s < 300).length).toBeGreaterThan(0);
    for (const run of await store.listRuns({ limit: 1000 })) {
      expect(Number.isSafeInteger(run.trigger.number) && run.trigger.number > 0, JSON.stringify(run.trigger)).toBe(true);
      expect(run.trigger.actor).toMatch(/^[\w[\]-]+$/);
    }
    console.log(`malformed deliveries: ${tried} mutations → ${JSON.stringify(Object.fromEntries([...answers].sort()))}`);
  });

  it("names the field in the answer and in one log line, with the delivery id", async () => {
    const labeled = (await examplePayloads("issues")).find((p) => p.action === "labeled") as Json;
    (labeled.issue as Json).number = "one";
    const before = logLines.length;
    const answer = await post("issues", JSON.stringify(labeled), "delivery-with-junk-number");
    expect(answer.status).toBe(422);
    expect(answer.text).toContain("issues.labeled: issue.number");
    const lines = logLines.slice(before).filter((l) => l.includes("delivery-with-junk-number"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("issue.number");
  });

  it("a failing handler logs the delivery id and the error, not the payload", async () => {
    const secrets = ["AKIAIOSFODNN7EXAMPLE", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "hunter2-correct-horse-battery"];
    const labeled = (await examplePayloads("issues")).find((p) => p.action === "labeled") as Json;
    Object.assign(labeled.issue as Json, { state: "open", pull_request: undefined, body: `aws ${secrets[0]}\nslack ${secrets[1]}\npassword: ${secrets[2]}` });
    (labeled.label as Json).name = "octoflow";
    (labeled.sender as Json).login = "alice";
    // another repository: octo/app's setup is cached by now
    Object.assign(labeled.repository as Json, { name: "broken", full_name: "octo/broken" });
    gh.expect("GET", "/repos/octo/broken/contents/{path}", () => ({ status: 500, body: { message: "boom" } }), { times: 2 });
    const before = logLines.length;
    const answer = await post("issues", JSON.stringify(labeled), "delivery-that-fails");
    // the acknowledgement only stores the delivery (D13); the handler fails in the inbox worker
    expect(answer.status).toBe(200);
    const failed = () => logLines.slice(before).filter((l) => l.includes("delivery-that-fails") && l.includes("webhook handler failed"));
    for (let i = 0; failed().length === 0; i++) {
      if (i > 400) throw new Error("the inbox never processed the delivery");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const lines = logLines.slice(before);
    const failure = failed();
    expect(failure).toHaveLength(1);
    expect(failure[0]).toContain("boom");
    for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
  });
});
