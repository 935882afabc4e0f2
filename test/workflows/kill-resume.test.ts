import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createEmbeddedQueue } from "../../src/queue/embedded-queue.ts";
import { createSqliteRunStore } from "../../src/store/sqlite-run-store.ts";
import { createEngine } from "../../src/workflows/engine.ts";
import type { ProgressSink } from "../../src/workflows/ports.ts";
import { asRunId } from "../../src/workflows/types.ts";
import { createScriptedAgent } from "./fakes/scripted-agent.ts";
import { fakeCi } from "./fakes/fake-ci.ts";

describe("kill -9 in the middle of a step", () => {
  it("a new process resumes the run from SQLite: finished steps keep their outputs, the interrupted one re-runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "octoflow-kill-"));
    const path = join(dir, "octoflow.db");
    try {
      const child = spawn(process.execPath, [join(import.meta.dirname, "helpers/crash-worker.ts"), path], { stdio: ["ignore", "pipe", "inherit"] });
      const runId = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /ready (\S+)/.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        child.on("exit", (code) => reject(new Error(`worker exited early (${code})`)));
      });
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGKILL");
      await exited;

      const store = createSqliteRunStore({ path });
      const before = await store.getSteps(asRunId(runId));
      expect(before.map((s) => s.status)).toEqual(["succeeded", "running", "pending"]);
      const agents = createScriptedAgent();
      const queue = createEmbeddedQueue({ store, pollMs: 10, leaseMs: 5000 });
      // wait for the outcome, not for a duration: a loaded machine may need seconds for the lease to lapse
      let onFinished: () => void = () => {};
      const finished = new Promise<void>((resolve) => (onFinished = resolve));
      const progress: ProgressSink = { emit: (event) => void (event.type === "run.finished" && event.runId === runId && onFinished()) };
      const engine = createEngine({ store, queue, agents, cancelPollMs: 50, progress });
      await queue.start(engine.execute);
      expect(await engine.resumeUnfinished()).toBe(1);
      await finished;
      await queue.stop();
      expect((await store.getRun(asRunId(runId)))?.status).toBe("succeeded");
      expect(agents.calls.map((c) => c.stepId)).toEqual(["b", "c"]);
      expect(agents.callsOf("b")[0]?.prompt).toContain("a by the first worker");
      const steps = await store.getSteps(asRunId(runId));
      expect(steps.map((s) => [s.stepId, s.status, s.attempts])).toEqual([["a", "succeeded", 1], ["b", "succeeded", 2], ["c", "succeeded", 1]]);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("kill -9 while a run is parked", () => {
  it("after a restart, the CI event resumes the run from SQLite; finished steps are not redone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "octoflow-park-kill-"));
    const path = join(dir, "octoflow.db");
    try {
      const child = spawn(process.execPath, [join(import.meta.dirname, "helpers/park-worker.ts"), path], { stdio: ["ignore", "pipe", "inherit"] });
      const runId = asRunId(
        await new Promise<string>((resolve, reject) => {
          let out = "";
          child.stdout.on("data", (chunk: Buffer) => {
            out += chunk.toString();
            const match = /parked (\S+)/.exec(out);
            if (match?.[1]) resolve(match[1]);
          });
          child.on("exit", (code) => reject(new Error(`worker exited early (${code})`)));
        }),
      );
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGKILL");
      await exited;

      const store = createSqliteRunStore({ path });
      expect((await store.getRun(runId))?.status).toBe("waiting");
      const ci = fakeCi(new Map([["sha-1", "success"]]));
      const agents = createScriptedAgent();
      const queue = createEmbeddedQueue({ store, pollMs: 10, leaseMs: 5000 });
      let onFinished: () => void = () => {};
      const finished = new Promise<void>((resolve) => (onFinished = resolve));
      const progress: ProgressSink = { emit: (event) => void (event.type === "run.finished" && event.runId === runId && onFinished()) };
      const engine = createEngine({ store, queue, agents, outputs: ci.outputs, gates: ci.gates, cancelPollMs: 50, progress });
      await queue.start(engine.execute);
      // start-up resumes nothing early (nor reads parked runs): the parked run's poll is minutes away
      expect(await engine.resumeUnfinished()).toBe(0);
      await new Promise((r) => setTimeout(r, 100));
      expect((await store.getRun(runId))?.status).toBe("waiting");
      // the CI webhook arrives
      expect(await engine.wakeWaiting("acme/widgets", "ci:sha-1")).toEqual([runId]);
      await finished;
      await queue.stop();
      expect((await store.getRun(runId))?.status).toBe("succeeded");
      expect(agents.calls).toEqual([]);
      expect((await store.getSteps(runId)).map((s) => [s.stepId, s.status])).toEqual([["generate", "succeeded"], ["verify", "succeeded"]]);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
