/** Shared builders for agent tests: a trigger, a plan, a request, a store and a runner. */
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll } from "vitest";
import { createAgentRunner, type AgentRunnerDeps, type AgentEnv } from "../../../src/agents/agent-runner.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { createMetrics, type Metrics } from "../../../src/observability/metrics.ts";
import type { AgentProgress, AgentRequest, ConversationMessage, RepoReader } from "../../../src/workflows/ports.ts";
import { asRunId, asStepId, type PlannedStep, type RunPlan, type StepOutput, type Trigger } from "../../../src/workflows/types.ts";
import { startModelServer, type ModelServer } from "../../fakes/model-server.ts";
import { issueTrigger } from "../../workflows/fakes/triggers.ts";
import { createFakeClock, type FakeClock } from "../../fakes/fake-clock.ts";

/** A `/octoflow` command on issue acme/widgets#7 asking for a greeting. */
export function trigger(overrides: Partial<Trigger> = {}): Trigger {
  return issueTrigger({ kind: "command", number: 7, issue: { title: "Add a greeting", body: "Please add greet() to src/greet.ts" }, ...overrides });
}

export function step(overrides: Partial<PlannedStep> = {}): PlannedStep {
  return { id: asStepId("implement"), name: "implement", role: "generate", prompt: "Implement the issue", needs: [], retries: 0, timeoutMs: 60_000, output: "pull_request", ...overrides };
}

export function plan(steps: PlannedStep[], customRoles: RunPlan["customRoles"] = {}): RunPlan {
  return { workflow: "test", description: "", steps, inputs: {}, concurrency: { group: "g", cancelInProgress: false }, customRoles };
}

export interface RequestOptions {
  step?: Partial<PlannedStep>;
  trigger?: Partial<Trigger>;
  customRoles?: RunPlan["customRoles"];
  upstream?: Record<string, StepOutput>;
  signal?: AbortSignal;
  progress?: AgentProgress[];
}

export function request(options: RequestOptions = {}): AgentRequest {
  const s = step(options.step);
  const progress = options.progress ?? [];
  return {
    runId: asRunId("run-1"),
    step: s,
    plan: plan([s], options.customRoles),
    prompt: s.prompt,
    trigger: trigger(options.trigger),
    upstream: options.upstream ?? {},
    attempt: 1,
    signal: options.signal ?? new AbortController().signal,
    onProgress: (p) => progress.push(p),
  };
}

export function memoryStore() {
  const messages = new Map<string, ConversationMessage[]>();
  const markers = new Map<string, string>();
  return {
    messages,
    markers,
    async appendMessage(key: string, message: ConversationMessage) {
      messages.set(key, [...(messages.get(key) ?? []), message]);
    },
    async listMessages(key: string) {
      return [...(messages.get(key) ?? [])];
    },
    async getMarker(key: string) {
      return markers.get(key);
    },
    async setMarker(key: string, value: string) {
      markers.set(key, value);
    },
  };
}

/** Captures log lines (JSON) so tests can assert that no secret reaches them. */
export function captureLog() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { log: createLogger({ level: "debug", destination }), lines };
}

export interface Harness {
  runner: ReturnType<typeof createAgentRunner>;
  clock: FakeClock;
  metrics: Metrics;
  store: ReturnType<typeof memoryStore>;
  logLines: string[];
}

export function harness(env: Partial<AgentEnv>, reader: RepoReader, extra: Partial<AgentRunnerDeps> = {}): Harness {
  const clock = createFakeClock();
  const metrics = createMetrics({ defaults: false });
  const store = memoryStore();
  const { log, lines } = captureLog();
  const runner = createAgentRunner({
    env: { OCTOFLOW_MODEL: "openai:gpt-4.1-mini", CODEGEN_BASE_URL: "https://api.codegen.com", ...env },
    store,
    repoReaderFor: () => reader,
    metrics,
    log,
    clock,
    random: () => 0.5,
    ...extra,
  });
  return { runner, clock, metrics, store, logLines: lines };
}

export async function metricValue(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const json = await metrics.registry.getMetricsAsJSON();
  const metric = json.find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l));
  return Number(value?.value ?? 0);
}

export interface ModelServerSuite {
  /** The file's fake model server (started in `beforeAll`). */
  readonly server: ModelServer;
  /** Closes `h.runner` after the current test; returns `h`. */
  track(h: Harness): Harness;
}

/**
 * Registers the hooks a test file against the fake model server needs: one server per file,
 * `assertDone()` after every test (an unmatched request or an unused scripted reply fails it), a
 * reset, and every tracked runner closed.
 *
 * @example
 * const suite = useModelServer();
 * const h = suite.track(harness({ OPENAI_BASE_URL: suite.server.baseURL, ... }, reader));
 */
export function useModelServer(): ModelServerSuite {
  let server: ModelServer | undefined;
  const open: Harness[] = [];
  beforeAll(async () => {
    server = await startModelServer();
  });
  afterEach(async () => {
    try {
      server?.assertDone();
    } finally {
      server?.reset();
      await Promise.all(open.splice(0).map((h) => h.runner.close()));
    }
  });
  afterAll(async () => {
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error("the model server is started in beforeAll; use it inside tests");
      return server;
    },
    track(h) {
      open.push(h);
      return h;
    },
  };
}
