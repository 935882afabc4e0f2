/**
 * Approval gates end to end (issue 13, part 3): the real Probot server on 127.0.0.1 receives signed
 * webhooks; GitHub is faked over HTTP (every request validated against the OpenAPI description); the
 * model is a local server speaking the OpenAI Responses format; the store is SQLite; the real engine,
 * queue, agent runner, progress reporters and outputs do the work. plan → approve → generate: the run
 * parks with an Approve button, and goes on when someone with enough permission approves it.
 */
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { createNodeMiddleware } from "probot";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, octoflowApp, type Runtime } from "../../src/app.ts";
import { loadEnv } from "../../src/config/env.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import type { RunId, RunRecord } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { createTestProbot, example, testPrivateKey, WEBHOOK_SECRET } from "../github/app-harness.ts";
import { silentLog } from "../github/support.ts";

type Json = Record<string, unknown>;

let gh: GitHubFake;
let repo: RepoModel;
let models: ModelServer;
let runtime: Runtime;
let server: Server;
let url: string;
let dataDir: string;
let deliveries = 0;
let commentIds = 9000;

const gatedWorkflow = (name: string, approval: string) => `name: ${name}
description: Plan, ask a maintainer, then implement.
on:
  labels: ["octoflow:${name}"]
roles:
  planner:
    description: Writes a plan
    systemPrompt: You plan changes.
    output: none
    result: text
steps:
  - id: plan
    name: Plan the change
    role: planner
    prompt: "Plan: {{ issue.title }}"
  - id: generate
    name: Implement the change
    role: generate
    needs: plan
    approval: ${approval}
    prompt: "Implement {{ issue.title }} following {{ steps.plan.output }}"
    output: pull_request
`;

async function post(event: string, payload: object): Promise<number> {
  const body = JSON.stringify(payload);
  const headers = { "content-type": "application/json", "x-github-event": event, "x-github-delivery": `approval-${++deliveries}`, "x-hub-signature-256": await sign(WEBHOOK_SECRET, body) };
  const response = await fetch(`${url}/api/github/webhooks`, { method: "POST", headers, body });
  await response.arrayBuffer();
  // The acknowledgement only stored the delivery: wait until the inbox worker handled it.
  const failures = await runtime.inbox.drain();
  if (failures.length > 0) throw failures[0];
  await runtime.progress.idle();
  return response.status;
}

const sender = (login: string) => ({ login, id: 1, node_id: "U", type: "User", site_admin: false, avatar_url: "", url: "", html_url: "" });

async function label(name: string, number: number, who = "alice"): Promise<number> {
  return post(
    "issues",
    await example("issues", "labeled", (p) => {
      (p.label as Json).name = `octoflow:${name}`;
      Object.assign(p.issue as Json, { number, title: `Add a greeting ${number}`, body: "Please add hello().", state: "open" });
      p.sender = sender(who);
    }),
  );
}

async function command(body: string, number: number, who: string): Promise<number> {
  const id = ++commentIds;
  repo.state.comments.set(id, { id, issueNumber: number, body, user: who });
  return post(
    "issue_comment",
    await example("issue_comment", "created", (p) => {
      Object.assign(p.comment as Json, { body, id, user: sender(who) });
      p.sender = sender(who);
      const issue = p.issue as Json;
      Object.assign(issue, { number, title: `Add a greeting ${number}`, state: "open" });
      delete issue.pull_request;
    }),
  );
}

async function press(run: RunRecord, identifier: string, who: string): Promise<number> {
  return post(
    "check_run",
    await example("check_run", "requested_action", (p) => {
      (p.check_run as Json).external_id = run.id;
      p.requested_action = { identifier };
      p.sender = sender(who);
    }),
  );
}

async function runOf(number: number, predicate: (run: RunRecord) => boolean): Promise<RunRecord> {
  // Waits for state, never asserts on time: the bound only turns a hang into a clear failure.
  for (let i = 0; i < 1200; i++) {
    const run = (await runtime.store.listRuns({ limit: 100 })).find((r) => r.trigger.number === number);
    if (run && predicate(run)) {
      await runtime.progress.idle();
      return run;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const runs = await runtime.store.listRuns();
  throw new Error(`run of #${number} did not settle: ${JSON.stringify(runs.map((r) => [r.trigger.number, r.status, r.error]))}`);
}

const parked = (number: number) => runOf(number, (r) => r.status === "waiting" && r.checkRunId !== undefined);

function checkRunOf(run: RunRecord): { status?: string; conclusion?: string; actions?: { identifier: string; label: string; description: string }[]; output?: { summary?: string } } {
  return repo.state.checkRuns.get(run.checkRunId ?? -1) ?? {};
}

const commentsOn = (number: number) => [...repo.state.comments.values()].filter((c) => c.issueNumber === number && c.user !== "alice" && c.user !== "rita" && c.user !== "mo");
const step = async (id: RunId, stepId: string) => (await runtime.store.getSteps(id)).find((s) => s.stepId === stepId);

const json = (value: unknown) => ({ kind: "text" as const, text: JSON.stringify(value), usage: { input: 1200, output: 300 }, chunkSize: 16 });
const planReply = { kind: "text" as const, text: "Add hello() to src/hello.ts.", usage: { input: 1000, output: 50 }, chunkSize: 8 };
const generateReply = (n: number) => json({ summary: `Add hello() ${n}`, edits: [{ kind: "create", path: `src/hello-${n}.ts`, content: "export const hello = () => 'hi';\n", blocks: null }] });

beforeAll(async () => {
  gh = await startGitHubFake();
  repo = installRepoModel(gh, {
    owner: "octo",
    repo: "app",
    files: { "README.md": "# app\n", ".github/octoflow/workflows/gated.yml": gatedWorkflow("gated", "true"), ".github/octoflow/workflows/gated-strict.yml": gatedWorkflow("gated-strict", "{ permission: maintain }") },
    permissions: { alice: "write", rita: "read", mo: "maintain" },
    issues: Object.fromEntries([7, 8, 9, 10].map((n) => [n, { title: `Add a greeting ${n}`, body: "Please add hello()." }])),
  });
  models = await startModelServer();
  dataDir = mkdtempSync(join(tmpdir(), "octoflow-approval-"));
  const env = loadEnv({
    NODE_ENV: "test",
    APP_ID: "123",
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET,
    LOG_LEVEL: "silent",
    DATABASE_URL: `sqlite:${join(dataDir, "octoflow.db")}`,
    OCTOFLOW_MODEL: "openai:gpt-4.1-mini",
    OPENAI_API_KEY: "sk-test-e2e-key-000000000000",
    OPENAI_BASE_URL: models.baseURL,
  });
  runtime = await createRuntime(env, silentLog, { metrics: createMetrics({ defaults: false }), progressIntervalMs: 200 });
  const probot = createTestProbot(gh.url);
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
  await models?.close();
  await gh?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("approval gates end to end", { timeout: 90_000 }, () => {
  it("plan → approve → generate: the run parks with an Approve button and the cost so far; a reader's press is refused once; a writer's press runs generate", async () => {
    models.expect("openai.responses", planReply);
    expect(await label("gated", 7)).toBe(200);
    const run = await parked(7);
    models.assertDone();
    const gate = await step(run.id, "generate");
    expect(gate).toMatchObject({ status: "waiting", waiting: { reason: "approval", key: "approval:generate" } });
    expect(gate?.approval).toBeUndefined();

    const check = checkRunOf(run);
    expect(check.status).toBe("in_progress");
    expect(check.actions?.map((a) => a.identifier)).toEqual(["approve", "cancel"]);
    const summary = check.output?.summary ?? "";
    expect(summary).toContain("| Implement the change | ⏸️ waiting");
    expect(summary).toMatch(/\*\*Approval needed\*\* \(estimated cost so far: \$0\.\d{4}\)/);
    expect(summary).toContain("**Implement the change** waits for approval by a user with **write** permission or higher");
    expect(summary).toMatch(/Cost so far: \$0\.\d{4}/);

    // rita (read) presses Approve twice: one answer, nothing changes
    expect(await press(run, "approve", "rita")).toBe(200);
    expect(await press(run, "approve", "rita")).toBe(200);
    const refusals = commentsOn(7).filter((c) => c.body.includes("I did not approve this"));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.body).toContain("@rita");
    expect(refusals[0]?.body).toContain("**Implement the change** needs **write** permission");
    expect(refusals[0]?.body).toContain("you have **read**");
    expect((await runtime.store.getRun(run.id))?.status).toBe("waiting");
    expect((await step(run.id, "generate"))?.approval).toBeUndefined();

    // alice (write) approves: generate runs, the PR opens, the table says who approved
    models.expect("openai.responses", generateReply(7));
    expect(await press(run, "approve", "alice")).toBe(200);
    const done = await runOf(7, (r) => r.status === "succeeded");
    models.assertDone();
    expect((await step(done.id, "generate"))?.approval?.by).toBe("alice");
    const final = checkRunOf(done);
    expect(final).toMatchObject({ status: "completed", conclusion: "success", actions: [] });
    expect(final.output?.summary).toMatch(/\| Implement the change \| ✅ succeeded — approved by alice at \d{4}-\d\d-\d\d \d\d:\d\d UTC \|/);
    expect(final.output?.summary).toMatch(/Total cost: \$0\.\d{4}/);
    expect(repo.state.pulls.some((p) => p.head.ref.startsWith("octoflow/7-"))).toBe(true);
    gh.verify();
  });

  it("/octoflow status shows what a run waits for; /octoflow approve from a reader is refused, from a writer runs generate", async () => {
    models.expect("openai.responses", planReply);
    await label("gated", 8);
    const run = await parked(8);

    await command("/octoflow status", 8, "rita");
    const status = commentsOn(8).find((c) => c.body.includes(`(run \`${run.id}\`)`));
    expect(status?.body).toContain("⏸️ waiting");
    expect(status?.body).toContain("**Implement the change** waits for approval by a user with **write** permission or higher");
    expect(status?.body).toMatch(/Cost so far: \$0\.\d{4}/);

    await command("/octoflow approve", 8, "rita");
    expect(commentsOn(8).filter((c) => c.body.includes("@rita, I did not approve this"))).toHaveLength(1);
    expect((await runtime.store.getRun(run.id))?.status).toBe("waiting");

    models.expect("openai.responses", generateReply(8));
    const before = repo.state.reactions.length;
    await command("/octoflow approve", 8, "alice");
    const done = await runOf(8, (r) => r.status === "succeeded");
    models.assertDone();
    expect(repo.state.reactions.slice(before).map((r) => r.content)).toEqual(["eyes"]);
    expect((await step(done.id, "generate"))?.approval?.by).toBe("alice");
    expect(checkRunOf(done).output?.summary).toContain("approved by alice");

    // nothing waits any more: a second approve says so
    await command("/octoflow approve", 8, "alice");
    expect(commentsOn(8).filter((c) => c.body.startsWith("There is no Octoflow run waiting for an approval on this thread."))).toHaveLength(1);
    gh.verify();
  });

  it("a maintain gate refuses a writer (button) and takes a maintainer's /octoflow approve", async () => {
    models.expect("openai.responses", planReply);
    await label("gated-strict", 9);
    const run = await parked(9);
    expect(checkRunOf(run).output?.summary).toContain("by a user with **maintain** permission or higher");

    await press(run, "approve", "alice");
    const refusal = commentsOn(9).find((c) => c.body.includes("@alice, I did not approve this"));
    expect(refusal?.body).toContain("needs **maintain** permission");
    expect(refusal?.body).toContain("you have **write**");
    expect((await runtime.store.getRun(run.id))?.status).toBe("waiting");

    models.expect("openai.responses", generateReply(9));
    await command("/octoflow approve generate", 9, "mo");
    const done = await runOf(9, (r) => r.status === "succeeded");
    models.assertDone();
    expect((await step(done.id, "generate"))?.approval?.by).toBe("mo");
    gh.verify();
  });

  it("the Cancel button cancels a run that waits for an approval", async () => {
    models.expect("openai.responses", planReply);
    await label("gated", 10);
    const run = await parked(10);
    await press(run, "cancel", "alice");
    const cancelled = await runOf(10, (r) => r.status === "cancelled");
    models.assertDone();
    expect((await step(cancelled.id, "generate"))?.status).toBe("cancelled");
    expect(checkRunOf(cancelled)).toMatchObject({ status: "completed", conclusion: "cancelled", actions: [] });
    expect(checkRunOf(cancelled).output?.summary).not.toContain("Approval needed");
    // an Approve pressed afterwards changes nothing
    await press(run, "approve", "alice");
    expect((await runtime.store.getRun(run.id))?.status).toBe("cancelled");
    gh.verify();
  });
});
