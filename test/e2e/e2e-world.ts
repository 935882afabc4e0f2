/**
 * The whole app served for an end-to-end test: the real Probot server on 127.0.0.1 receiving signed
 * webhooks, a fake GitHub (OpenAPI-validated) holding one repository `octo/app`, the model faked by a
 * local server speaking the OpenAI Responses wire format, and a SQLite store in a temporary folder.
 */
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { createNodeMiddleware } from "probot";
import { createRuntime, octoflowApp, type Runtime } from "../../src/app.ts";
import { loadEnv } from "../../src/config/env.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import type { RunRecord } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { startModelServer, type ModelServer } from "../fakes/model-server.ts";
import { createTestProbot, testPrivateKey, WEBHOOK_SECRET } from "../github/app-harness.ts";
import { silentLog } from "../github/support.ts";

export interface E2eWorld {
  gh: GitHubFake;
  repo: RepoModel;
  models: ModelServer;
  runtime: Runtime;
  /** Posts a signed webhook; resolves with the acknowledgement's status. */
  post(event: string, payload: object, id?: string): Promise<{ status: number; id: string }>;
  /** Waits until `predicate` holds for the stored runs and the progress views are idle. */
  settled(predicate: (runs: RunRecord[]) => boolean): Promise<RunRecord[]>;
  /** Waits until `predicate` holds (GitHub state written by a handler the inbox worker runs). */
  until(predicate: () => boolean | Promise<boolean>, what: string): Promise<void>;
  close(): Promise<void>;
}

let deliveries = 0;

/**
 * @example
 * const world = await startE2eWorld({ files: { "src/a.ts": "…" }, permissions: { alice: "write" } });
 */
export async function startE2eWorld(options: { files: Record<string, string>; permissions: Record<string, string> }): Promise<E2eWorld> {
  const gh = await startGitHubFake();
  const repo = installRepoModel(gh, { owner: "octo", repo: "app", files: options.files, permissions: options.permissions });
  const models = await startModelServer();
  const dataDir = mkdtempSync(join(tmpdir(), "octoflow-e2e-"));
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
  const runtime = await createRuntime(env, silentLog, { metrics: createMetrics({ defaults: false }), progressIntervalMs: 200 });
  const middleware = await createNodeMiddleware(octoflowApp(runtime), { probot: createTestProbot(gh.url) });
  const server: Server = createServer((req, res) => {
    void middleware(req, res, () => {
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

  const until = async (predicate: () => boolean | Promise<boolean>, what: string) => {
    // Waits for state, never asserts on time: the bound only turns a hang into a clear failure.
    for (let i = 0; i < 1200; i++) {
      if (await predicate()) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  return {
    gh,
    repo,
    models,
    runtime,
    async post(event, payload, id = `e2e-own-${++deliveries}`) {
      const body = JSON.stringify(payload);
      const headers = { "content-type": "application/json", "x-github-event": event, "x-github-delivery": id, "x-hub-signature-256": await sign(WEBHOOK_SECRET, body) };
      const response = await fetch(`${url}/api/github/webhooks`, { method: "POST", headers, body });
      await response.arrayBuffer();
      return { status: response.status, id };
    },
    async settled(predicate) {
      let runs: RunRecord[] = [];
      await until(async () => predicate((runs = await runtime.store.listRuns({ limit: 100 }))), "the runs to settle");
      await runtime.progress.idle();
      return runs;
    },
    until,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const close of [...runtime.closers].reverse()) await close();
      await models.close();
      await gh.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
