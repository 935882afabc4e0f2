/**
 * DESIGN D15: the App never executes repository code on its own host. A `uses: command` step in a run
 * of the App fails with the reason, and the configured command never runs.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { workflow } from "../../src/workflows/builder.ts";
import { planRun } from "../../src/workflows/plan.ts";
import { asStepId, type PlannedStep, type Trigger } from "../../src/workflows/types.ts";
import { startHarness, type Harness } from "./app-harness.ts";

let harness: Harness | undefined;
let dir: string | undefined;
afterEach(async () => {
  await harness?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  harness = undefined;
  dir = undefined;
});

describe("the App and command steps", () => {
  it("fails a command step with the D15 reason and runs nothing", async () => {
    dir = mkdtempSync(join(tmpdir(), "octoflow-app-commands-"));
    const marker = join(dir, "ran");
    harness = await startHarness({ files: { "README.md": "# app\n", ".github/octoflow.yml": `checkout:\n  commands:\n    test: touch ${marker}\n` } });
    const trigger: Trigger = { kind: "label", repo: { owner: "octo", name: "app", defaultBranch: "main", installationId: 1 }, number: 1, isPullRequest: false, actor: "alice", inputs: {}, issue: { title: "t", body: "b" } };
    const plan = planRun(workflow("verify").step({ id: "generate", role: "generate", prompt: "do it", output: "none" }).build(), trigger);
    const verify: PlannedStep = { id: asStepId("verify"), name: "verify", role: "command", prompt: "", needs: [asStepId("generate")], retries: 0, timeoutMs: 60_000, output: "none", uses: { kind: "command", command: "test" } };
    plan.steps.push(verify);

    const { runtime } = harness;
    const run = await runtime.handlerDeps.runs.start(plan, trigger);
    await runtime.engine.execute(run.id, new AbortController().signal);

    const steps = await harness.store.getSteps(run.id);
    expect(steps.map((s) => [s.stepId, s.status])).toEqual([["generate", "succeeded"], ["verify", "failed"]]);
    expect(steps[1]?.error).toBe('step "verify": command steps run only in the CLI and the Action: the App never executes repository code');
    const finished = await harness.store.getRun(run.id);
    expect(finished?.status).toBe("failed");
    expect(finished?.error).toContain("the App never executes repository code");
    expect(existsSync(marker)).toBe(false);
  }, 30_000);
});
