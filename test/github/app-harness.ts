/**
 * The whole Octoflow app in-process for handler tests: Probot (webhooks via `probot.receive`),
 * the real runtime (engine, embedded queue, GitHub progress sink) over an in-memory store, a fake
 * GitHub (OpenAPI-validated) holding one repository `octo/app`, and a scripted agent runner.
 */
import { generateKeyPairSync } from "node:crypto";
import type { Logger } from "pino";
import { Probot, ProbotOctokit } from "probot";
import { createRuntime, octoflowApp, type Runtime } from "../../src/app.ts";
import { loadEnv } from "../../src/config/env.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import type { AgentRequest, AgentRunner, RunStore } from "../../src/workflows/ports.ts";
import type { StepOutput } from "../../src/workflows/types.ts";
import { installRepoModel, type RepoModel } from "../fakes/github-repo-model.ts";
import { startGitHubFake, type GitHubFake } from "../fakes/github-server.ts";
import { silentLog } from "./support.ts";

let keyPem: string | undefined;
/** One RSA key per test process (generation is slow). */
export function testPrivateKey(): string {
  keyPem ??= generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  return keyPem;
}

export const WEBHOOK_SECRET = "test-webhook-secret";

/**
 * A Probot instance for tests, talking to a fake GitHub at `baseUrl`. Probot layers its own throttle
 * options over the class defaults, so throttling and retries are switched off last (production keeps both).
 */
export function createTestProbot(baseUrl: string, options: { Octokit?: typeof ProbotOctokit; log?: Logger } = {}): Probot {
  const Base = options.Octokit ?? ProbotOctokit;
  return new Probot({
    appId: 123,
    privateKey: testPrivateKey(),
    secret: WEBHOOK_SECRET,
    baseUrl,
    log: options.log ?? silentLog,
    Octokit: Base.defaults((o: Record<string, unknown>) => ({ ...o, throttle: { ...(o.throttle as object), enabled: false }, retry: { enabled: false } })),
  });
}

/** A working fake agent: answers per role, reports a little streamed progress. */
export function scriptedAgents(answer: (req: AgentRequest) => StepOutput | Promise<StepOutput>): AgentRunner & { calls: AgentRequest[] } {
  const calls: AgentRequest[] = [];
  return {
    calls,
    async run(req) {
      calls.push(req);
      for (let i = 1; i <= 3; i++) req.onProgress({ tokens: i * 10, tail: `thinking ${i}` });
      return answer(req);
    },
  };
}

export const usage = { inputTokens: 100, outputTokens: 40, cachedTokens: 0 };

export interface Harness {
  gh: GitHubFake;
  model: RepoModel;
  store: RunStore;
  runtime: Runtime;
  probot: Probot;
  receive(name: string, payload: object, id?: string): Promise<void>;
  close(): Promise<void>;
}

let deliveries = 0;

export async function startHarness(options: {
  files?: Record<string, string>;
  permissions?: Record<string, string>;
  agents?: AgentRunner;
  startWorkers?: boolean;
}): Promise<Harness> {
  const gh = await startGitHubFake();
  const model = installRepoModel(gh, { owner: "octo", repo: "app", files: options.files ?? { "README.md": "# app\n" }, permissions: options.permissions ?? { alice: "write", rita: "read" } });
  const store = createMemoryRunStore();
  const env = loadEnv({ NODE_ENV: "test", APP_ID: "123", PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET, LOG_LEVEL: "silent" });
  const runtime = await createRuntime(env, silentLog, {
    store,
    agents: options.agents ?? scriptedAgents(() => ({ text: "done", usage, costUsd: 0 })),
    metrics: createMetrics({ defaults: false }),
    progressIntervalMs: 1000,
    startWorkers: options.startWorkers ?? false,
  });
  const probot = createTestProbot(gh.url);
  await probot.load(octoflowApp(runtime), { cwd: process.cwd(), addHandler: () => undefined });
  return {
    gh,
    model,
    store,
    runtime,
    probot,
    async receive(name, payload, id = `delivery-${++deliveries}`) {
      await probot.receive({ id, name, payload } as never);
      // the acknowledgement only stored the delivery: process it now, as the inbox worker would
      const failures = await runtime.inbox.drain();
      if (failures.length > 0) throw failures[0];
    },
    async close() {
      for (const close of [...runtime.closers].reverse()) await close();
      await gh.close();
    },
  };
}

type Json = Record<string, unknown>;

/** A real example payload from @octokit/webhooks-examples, moved to `octo/app` with installation 1. */
export async function examplePayloads(event: string): Promise<Json[]> {
  const { default: index } = (await import("@octokit/webhooks-examples/api.github.com/index.json", { with: { type: "json" } })) as { default: { name: string; examples: Json[] }[] };
  const entry = index.find((e) => e.name === event);
  return (entry?.examples ?? []).map((example) => retarget(structuredClone(example)));
}

export function retarget(payload: Json): Json {
  const repo = payload.repository as Json | undefined;
  if (repo) {
    (repo.owner as Json).login = "octo";
    repo.name = "app";
    repo.full_name = "octo/app";
    repo.default_branch = "main";
  }
  payload.installation = { id: 1, node_id: "I_1" };
  return payload;
}

export async function example(event: string, action: string, edit: (p: Json) => void = () => undefined): Promise<Json> {
  const found = (await examplePayloads(event)).find((p) => p.action === action);
  if (!found) throw new Error(`no example for ${event}.${action}`);
  edit(found);
  return found;
}
