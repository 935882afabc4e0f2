import { afterEach, describe, expect, it } from "vitest";
import { composeCore, type Core, type CoreInputs } from "../../src/compose/compose-core.ts";
import { backendOver, type Backend } from "../../src/compose/open-backend.ts";
import { loadEnv } from "../../src/config/env.ts";
import type { GitHubClients } from "../../src/github/client.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import type { RateLimiter } from "../../src/resilience/token-bucket-limiter.ts";
import { createMemoryRunStore } from "../../src/store/memory-run-store.ts";
import { workflow } from "../../src/workflows/builder.ts";
import { planRun } from "../../src/workflows/plan.ts";
import { request } from "../agents/support/fixtures.ts";
import { startModelServer } from "../fakes/model-server.ts";
import { createFakeClock } from "../fakes/fake-clock.ts";
import { silentLog } from "../github/support.ts";
import { createRecordingSink } from "../workflows/fakes/recording-sink.ts";
import { createScriptedAgent } from "../workflows/fakes/scripted-agent.ts";
import { issueTrigger } from "../workflows/fakes/triggers.ts";
import { until } from "../workflows/fakes/until.ts";

/** No GitHub in these tests: the progress sink's surfaces fail to open, which never fails a run. */
const noGitHub: GitHubClients = { forInstallation: () => Promise.reject(new Error("no GitHub in this test")) };

const opened: Core[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((core) => core.close()));
});

function compose(env: Record<string, string>, overrides: Partial<CoreInputs> & { backend?: Backend } = {}): Core {
  const core = composeCore({
    env: loadEnv({ NODE_ENV: "test", LOG_LEVEL: "silent", ...env }),
    clients: noGitHub,
    backend: backendOver(createMemoryRunStore(), { runsPerProcess: 1, queue: false }),
    clock: createFakeClock(),
    log: silentLog,
    metrics: createMetrics({ defaults: false }),
    ...overrides,
  });
  opened.push(core);
  return core;
}

/** a → (b, c, d) */
const fanOutPlan = () =>
  planRun(
    workflow("fan-out")
      .step({ id: "a", role: "generate", prompt: "plan" })
      .step({ id: "b", role: "review", prompt: "b" }).needs("a")
      .step({ id: "c", role: "test", prompt: "c" }).needs("a")
      .step({ id: "d", role: "docs", prompt: "d" }).needs("a")
      .build(),
    issueTrigger(),
  );

describe("composeCore", () => {
  it("bounds the steps of one run by OCTOFLOW_STEP_CONCURRENCY and feeds the extra sinks every event", async () => {
    for (const [knob, expected] of [["1", 1], ["2", 2], ["4", 3]] as const) {
      const agents = createScriptedAgent({ b: [{ kind: "block" }], c: [{ kind: "block" }], d: [{ kind: "block" }] });
      const terminal = createRecordingSink();
      const core = compose({ OCTOFLOW_STEP_CONCURRENCY: knob }, { agents, extraSinks: [terminal] });
      const started = await core.handlerDeps.runs.start(fanOutPlan(), issueTrigger());
      const done = core.engine.execute(started.id, new AbortController().signal);
      let finished = false;
      void done.then(() => (finished = true));
      await until(() => agents.running.size === expected, `${expected} steps running at once`);
      while (!finished) {
        for (const id of [...agents.running]) agents.release(id);
        await until(() => finished || agents.running.size > 0, "the next step");
      }
      await done;
      expect(agents.maxConcurrent).toBe(expected);
      expect((await core.store.getRun(started.id))?.status).toBe("succeeded");
      expect(terminal.types()[0]).toBe("run.started");
      expect(terminal.types().at(-1)).toBe("run.finished");
    }
  });

  it("gives the agent runner the backend's fleet-wide limiter (the CLI's too: it passes its backend the same way)", async () => {
    const server = await startModelServer();
    try {
      const acquired: { provider: string; requests: number }[] = [];
      const rateLimiterFor = (provider: string): RateLimiter => ({
        acquire: async (cost) => {
          acquired.push({ provider, requests: cost.requests });
        },
      });
      const backend = { ...backendOver(createMemoryRunStore(), { runsPerProcess: 1, queue: false }), rateLimiterFor };
      // no GitHub here: the agents go without the run workspace (its base commit would be read from GitHub)
      const core = compose({ OPENAI_API_KEY: "sk-test-0000000000000000", OPENAI_BASE_URL: server.baseURL }, { backend, workspaces: null });
      server.expect("openai.responses", { kind: "text", text: "ok" });
      const customRoles = { note: { name: "note", systemPrompt: "Be brief.", output: "comment" as const, result: "text" as const } };
      await core.agents.run(request({ step: { role: "note" }, customRoles }));
      server.assertDone();
      expect(acquired).toEqual([{ provider: "openai", requests: 1 }]);
      expect(core.breakerStates?.()).toEqual({ openai: "closed" });
    } finally {
      await server.close();
    }
  });

  it("close() stops the queue and closes the store, once", async () => {
    const store = createMemoryRunStore();
    const backend = backendOver(store, { runsPerProcess: 1 });
    const core = compose({}, { backend });
    expect(core.queue).toBe(backend.queue);
    await core.queue?.start(core.engine.execute);
    await core.close();
    expect(core.queue?.running()).toBe(false);
    await expect(store.ping()).rejects.toThrow();
    await core.close();
  });
});
